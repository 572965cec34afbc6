"""A small DOM of the HTML Chromium dumps (--dump-dom), for the report's tests:
elements with their attributes, children and text, and the few lookups the
tests need. Built with the standard library's HTMLParser."""

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []  # Elements and str

    def text(self):
        """The text content, as textContent gives it."""
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    def find_all(self, tag=None, **attrs):
        """Descendants (and self) with this tag and these attribute values (None: present)."""
        out = []
        for e in self.iter():
            if tag is not None and e.tag != tag:
                continue
            if all((k.replace("_", "-") in e.attrs) if v is None else e.attrs.get(k.replace("_", "-")) == v
                   for k, v in attrs.items()):
                out.append(e)
        return out

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def classes(self):
        return (self.attrs.get("class") or "").split()


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", [])
        self.at = self.root

    def handle_starttag(self, tag, attrs):
        e = Element(tag, attrs, self.at)
        self.at.children.append(e)
        if tag not in VOID:
            self.at = e

    def handle_startendtag(self, tag, attrs):
        self.at.children.append(Element(tag, attrs, self.at))

    def handle_endtag(self, tag):
        e = self.at
        while e is not None and e.tag != tag:
            e = e.parent
        if e is not None and e.parent is not None:
            self.at = e.parent

    def handle_data(self, data):
        self.at.children.append(data)


def parse(html_text):
    builder = _Builder()
    builder.feed(html_text)
    builder.close()
    return builder.root


def table_rows(table):
    """The body rows of a report table as dicts: column -> (data-v or None, shown text)."""
    rows = []
    body = table.find("tbody") or table
    for tr in body.find_all("tr"):
        cells = tr.find_all("td")
        if not cells or any("empty" in c.classes() for c in cells):
            continue
        rows.append({c.attrs.get("data-col"): (c.attrs.get("data-v"), c.text().strip()) for c in cells})
    return rows
