// Python call sites: the identity cache, the text table and the budget.
#include "sites.hpp"

#include <frameobject.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "values.hpp"

namespace ringtail::python {
namespace {

using shm::FieldType;

constexpr std::string_view kDynamicMessage = "python.dynamic";
// Identity entries kept before the cache starts over (each holds two references).
constexpr size_t kMaxIdentityEntries = 16384;

struct IdentityKey {
  PyObject* message;
  PyObject* kwnames;
  uint8_t level;
  friend bool operator==(const IdentityKey&, const IdentityKey&) = default;
  template <class H>
  friend H AbslHashValue(H h, const IdentityKey& key) {
    return H::combine(std::move(h), key.message, key.kwnames, key.level);
  }
};

// One identity's sites, by value types (almost always one).
struct IdentityEntry {
  std::vector<std::pair<std::vector<FieldType>, SiteChoice>> by_types;
};

struct TextSite {
  std::unique_ptr<binding::Site> site;
  bool message_as_text = false;
};

struct Tables {
  absl::flat_hash_map<IdentityKey, IdentityEntry> identity;
  absl::flat_hash_map<std::string, TextSite> by_text;
  uint32_t budget = 2048;
  uint64_t own_sites = 0;
  uint64_t dynamic_sites = 0;
  bool warned = false;
};

Tables& tables() {
  static Tables* t = new Tables();  // never destroyed: sites live as long as the process
  return *t;
}

void clear_identity(Tables& t) {
  for (auto& [key, entry] : t.identity) {
    Py_DECREF(key.message);
    Py_XDECREF(key.kwnames);
  }
  t.identity.clear();
}

std::string text_key(Level level, std::string_view message, const std::vector<std::string>& keys,
                     const FieldType* types, uint32_t count) {
  std::string key;
  key.push_back(static_cast<char>(level));
  key.append(types == nullptr ? "" : std::string_view(reinterpret_cast<const char*>(types), count));
  key.push_back('\0');  // types are never 0
  // Each key after its length: a key may hold any byte, NUL included, and
  // two different key lists must never meet in one text.
  for (const std::string& name : keys) {
    const auto length = static_cast<uint32_t>(name.size());
    key.append(reinterpret_cast<const char*>(&length), sizeof(length)).append(name);
  }
  key.append(message);
  return key;
}

SiteChoice make_site(Tables& t, Level level, std::string_view message, const std::vector<std::string>& keys,
                     const FieldType* types, uint32_t count, const SiteOrigin& origin) {
  const std::vector<FieldType> type_list(types, types + count);
  if (t.own_sites < t.budget) {
    ++t.own_sites;
    auto site =
        std::make_unique<binding::Site>(level, message, origin.file, origin.line, origin.function, keys, type_list);
    binding::Site* made = site.get();
    t.by_text.emplace(text_key(level, message, keys, types, count), TextSite{std::move(site), false});
    return SiteChoice{made, false};
  }
  if (!t.warned) {
    t.warned = true;
    std::fprintf(stderr,
                 "ringtail: more than %u distinct Python messages; new ones are written with the message "
                 "\"python.dynamic\" and their text in the field \"text\" (pass changing values as fields, "
                 "not in the message)\n",
                 t.budget);
  }
  // One site per level, keys and types, with "text" first.
  std::vector<std::string> dynamic_keys;
  dynamic_keys.reserve(keys.size() + 1);
  dynamic_keys.emplace_back("text");
  dynamic_keys.insert(dynamic_keys.end(), keys.begin(), keys.end());
  std::vector<FieldType> dynamic_types;
  dynamic_types.reserve(count + 1);
  dynamic_types.push_back(FieldType::kString);
  dynamic_types.insert(dynamic_types.end(), type_list.begin(), type_list.end());
  const std::string key =
      text_key(level, kDynamicMessage, dynamic_keys, dynamic_types.data(), static_cast<uint32_t>(dynamic_types.size()));
  auto found = t.by_text.find(key);
  if (found == t.by_text.end()) {
    ++t.dynamic_sites;
    auto site = std::make_unique<binding::Site>(level, kDynamicMessage, origin.file, origin.line, origin.function,
                                                dynamic_keys, dynamic_types);
    found = t.by_text.emplace(key, TextSite{std::move(site), true}).first;
  }
  return SiteChoice{found->second.site.get(), true};
}

SiteChoice find_by_text(Tables& t, Level level, std::string_view message, const std::vector<std::string>& keys,
                        const FieldType* types, uint32_t count, const SiteOrigin* origin) {
  if (count > shm::kMaxFields) return SiteChoice{};
  if (auto found = t.by_text.find(text_key(level, message, keys, types, count)); found != t.by_text.end()) {
    return SiteChoice{found->second.site.get(), found->second.message_as_text};
  }
  if (origin != nullptr) return make_site(t, level, message, keys, types, count, *origin);
  return make_site(t, level, message, keys, types, count, caller_origin());
}

}  // namespace

SiteOrigin caller_origin() {
  SiteOrigin origin;
  PyFrameObject* frame = PyEval_GetFrame();  // borrowed
  if (frame == nullptr) return origin;
  PyCodeObject* code = PyFrame_GetCode(frame);  // new reference
  origin.line = static_cast<uint32_t>(PyFrame_GetLineNumber(frame));
  origin.file = text_of(code->co_filename);
  origin.function = text_of(code->co_name);
  Py_DECREF(code);
  return origin;
}

void set_site_budget(uint32_t sites) { tables().budget = sites; }

SiteChoice find_site(Level level, PyObject* message, PyObject* kwnames, const FieldType* types, uint32_t count) {
  Tables& t = tables();
  const IdentityKey key{message, kwnames, static_cast<uint8_t>(level)};
  if (auto found = t.identity.find(key); found != t.identity.end()) {
    for (const auto& [known_types, choice] : found->second.by_types) {
      if (known_types.size() == count && std::memcmp(known_types.data(), types, count) == 0) return choice;
    }
  }
  std::vector<std::string> keys;
  keys.reserve(count);
  for (uint32_t i = 0; i < count; ++i) keys.push_back(text_of(PyTuple_GET_ITEM(kwnames, i)));
  const SiteChoice choice = find_by_text(t, level, text_of(message), keys, types, count, nullptr);
  // A message held only by the caller's stack was built for this call (an
  // f-string): its object will not come again, so it is not kept. A
  // constant of the caller's code is also held by the code object.
  if (Py_REFCNT(message) <= 1) return choice;
  if (t.identity.size() >= kMaxIdentityEntries) clear_identity(t);
  auto [entry, inserted] = t.identity.try_emplace(key);
  if (inserted) {
    Py_INCREF(message);
    Py_XINCREF(kwnames);
  }
  // A message object whose value types keep changing gets a bounded list.
  if (entry->second.by_types.size() < 8) {
    entry->second.by_types.emplace_back(std::vector<FieldType>(types, types + count), choice);
  }
  return choice;
}

SiteChoice find_site(Level level, std::string_view message, const std::vector<std::string>& keys,
                     const FieldType* types, uint32_t count, const SiteOrigin* origin) {
  return find_by_text(tables(), level, message, keys, types, count, origin);
}

SiteCounts site_counts() {
  const Tables& t = tables();
  return SiteCounts{t.own_sites, t.dynamic_sites, t.budget};
}

}  // namespace ringtail::python
