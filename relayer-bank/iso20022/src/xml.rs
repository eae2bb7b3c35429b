//! A small, strict XML tree reader and a deterministic writer, shared by the three messages.
//!
//! The reader turns the input into a tree of elements (namespace, local name, attributes,
//! children, text) with quick-xml and refuses what a bank document never needs: a DOCTYPE,
//! processing instructions, entities other than the five predefined ones, characters XML 1.0
//! does not allow, more than [`MAX_DEPTH`] levels of nesting, and input over
//! [`crate::MAX_DOCUMENT_BYTES`]. The walker then checks each element's children against the
//! schema's sequence for that type ([`Field`] lists), in order and with their multiplicity.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use crate::XmlError;

/// Deepest nesting accepted; ISO 20022 documents stay well under it.
pub(crate) const MAX_DEPTH: usize = 48;

/// The namespace of the XML Schema instance attributes (`xsi:schemaLocation`), accepted and
/// ignored on any element.
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One element of the parsed tree.
#[derive(Debug)]
pub(crate) struct Node {
    pub ns: Option<String>,
    pub name: String,
    /// Attributes other than namespace declarations and `xsi:*`: (namespace, local name, value).
    pub attrs: Vec<(Option<String>, String, String)>,
    pub children: Vec<Node>,
    /// The concatenated character data directly inside this element.
    pub text: String,
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn push_text(path: &str, target: &mut String, text: &str) -> Result<(), XmlError> {
    if let Some(c) = text.chars().find(|c| !is_xml_char(*c)) {
        return Err(XmlError::Forbidden {
            path: path.to_string(),
            what: format!("character U+{:04X}", c as u32),
        });
    }
    target.push_str(text);
    Ok(())
}

fn ns_of(r: &ResolveResult<'_>, path: &str) -> Result<Option<String>, XmlError> {
    match r {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(ns) => Ok(Some(ns.0.to_string())),
        ResolveResult::Unknown(p) => Err(XmlError::Malformed {
            path: path.to_string(),
            detail: format!("undeclared namespace prefix {p:?}"),
        }),
    }
}

/// Parses `input` into its root element, refusing DOCTYPEs, PIs, unknown entities, deep nesting
/// and oversized input.
pub(crate) fn parse_tree(input: &str) -> Result<Node, XmlError> {
    if input.len() > crate::MAX_DOCUMENT_BYTES {
        return Err(XmlError::TooLarge {
            path: "Document".into(),
            size: input.len(),
            limit: crate::MAX_DOCUMENT_BYTES,
        });
    }
    let mut reader = NsReader::from_str(input);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text_start = false;
    config.trim_text_end = false;
    config.check_comments = true;

    let mut stack: Vec<Node> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut root: Option<Node> = None;
    let cur_path = |path: &Vec<String>| {
        if path.is_empty() {
            "Document".to_string()
        } else {
            path.join("/")
        }
    };
    loop {
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(x) => x,
            Err(e) => {
                return Err(XmlError::Malformed {
                    path: cur_path(&path),
                    detail: e.to_string(),
                })
            }
        };
        let ns = match &event {
            Event::Start(_) | Event::Empty(_) => Some(ns_of(&resolved, &cur_path(&path))?),
            _ => None,
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(XmlError::Malformed {
                    path: cur_path(&path),
                    detail: "content after the root element".into(),
                });
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let name = e.local_name().into_inner().to_string();
                path.push(name.clone());
                if path.len() > MAX_DEPTH {
                    return Err(XmlError::Malformed {
                        path: cur_path(&path),
                        detail: format!("nested deeper than {MAX_DEPTH} elements"),
                    });
                }
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|err| XmlError::Malformed {
                        path: cur_path(&path),
                        detail: err.to_string(),
                    })?;
                    if a.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (r, local) = reader.resolver().resolve_attribute(a.key);
                    let ans = ns_of(&r, &cur_path(&path))?;
                    if ans.as_deref() == Some(XSI) {
                        continue;
                    }
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|err| XmlError::Forbidden {
                            path: cur_path(&path),
                            what: format!("attribute value ({err})"),
                        })?;
                    let mut v = String::new();
                    push_text(&cur_path(&path), &mut v, &value)?;
                    attrs.push((ans, local.into_inner().to_string(), v));
                }
                let node = Node {
                    ns: ns.flatten(),
                    name,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                };
                if is_empty {
                    path.pop();
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = Some(node),
                    }
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                path.pop();
                if let Some(node) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = Some(node),
                    }
                }
            }
            Event::Text(t) => {
                let p = cur_path(&path);
                let text = t.xml10_content();
                match stack.last_mut() {
                    Some(node) => push_text(&p, &mut node.text, &text)?,
                    None => {
                        if !text.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) {
                            return Err(XmlError::Malformed {
                                path: p,
                                detail: "text outside the root element".into(),
                            });
                        }
                    }
                }
            }
            Event::CData(c) => {
                let p = cur_path(&path);
                let raw = c.into_inner();
                let text = raw.replace("\r\n", "\n").replace('\r', "\n");
                match stack.last_mut() {
                    Some(node) => push_text(&p, &mut node.text, &text)?,
                    None => {
                        return Err(XmlError::Malformed {
                            path: p,
                            detail: "CDATA outside the root element".into(),
                        })
                    }
                }
            }
            Event::GeneralRef(r) => {
                let p = cur_path(&path);
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(XmlError::Forbidden {
                                path: p,
                                what: format!("entity reference &{other};"),
                            })
                        }
                    },
                    Err(e) => {
                        return Err(XmlError::Malformed {
                            path: p,
                            detail: e.to_string(),
                        })
                    }
                };
                match stack.last_mut() {
                    Some(node) => push_text(&p, &mut node.text, c.encode_utf8(&mut [0; 4]))?,
                    None => {
                        return Err(XmlError::Malformed {
                            path: p,
                            detail: "reference outside the root element".into(),
                        })
                    }
                }
            }
            Event::Comment(_) | Event::Decl(_) => {}
            Event::PI(_) => {
                return Err(XmlError::Forbidden {
                    path: cur_path(&path),
                    what: "a processing instruction".into(),
                })
            }
            Event::DocType(_) => {
                return Err(XmlError::Forbidden {
                    path: cur_path(&path),
                    what: "a DOCTYPE (and with it any entity declaration)".into(),
                })
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed {
            path: cur_path(&path),
            detail: "unexpected end of input".into(),
        });
    }
    root.ok_or_else(|| XmlError::Malformed {
        path: "Document".into(),
        detail: "no root element".into(),
    })
}

/// One child element of a schema type's sequence: its name and how often it may occur.
/// `map` says whether the parser reads it; the others are allowed and skipped.
#[derive(Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    pub min: usize,
    pub max: usize,
}

/// Unbounded `maxOccurs`.
pub(crate) const N: usize = usize::MAX;

/// Shorthand for a [`Field`].
pub(crate) const fn f(name: &'static str, min: usize, max: usize) -> Field {
    Field { name, min, max }
}

/// An element being walked, with its path for error messages.
pub(crate) struct El<'a> {
    pub node: &'a Node,
    pub path: String,
}

/// The children of one element, grouped by the schema field they matched.
pub(crate) struct Children<'a> {
    parent: String,
    groups: Vec<(Field, Vec<&'a Node>)>,
}

impl<'a> El<'a> {
    /// Checks this element's children against `spec` (the schema's sequence, in order) in
    /// namespace `ns`, refusing unknown names, elements out of order, too few or too many, text
    /// between elements and attributes.
    pub(crate) fn children(&self, ns: &str, spec: &[Field]) -> Result<Children<'a>, XmlError> {
        self.no_attrs()?;
        if !self
            .node
            .text
            .chars()
            .all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
        {
            return Err(XmlError::Invalid {
                path: self.path.clone(),
                reason: "text is not allowed here, only elements".into(),
            });
        }
        let mut groups: Vec<(Field, Vec<&'a Node>)> =
            spec.iter().map(|f| (*f, Vec::new())).collect();
        let mut at = 0usize;
        for child in &self.node.children {
            let here = format!("{}/{}", self.path, child.name);
            if child.ns.as_deref() != Some(ns) {
                return Err(XmlError::Unexpected {
                    path: here,
                    detail: format!(
                        "namespace {} where {ns} is expected",
                        child.ns.as_deref().unwrap_or("(none)")
                    ),
                });
            }
            let Some(i) = spec.iter().position(|f| f.name == child.name) else {
                return Err(XmlError::Unexpected {
                    path: here,
                    detail: "not allowed at this place by the schema".into(),
                });
            };
            if i < at {
                return Err(XmlError::Unexpected {
                    path: here,
                    detail: format!("out of the schema's order (after {})", spec[at].name),
                });
            }
            at = i;
            let (field, list) = &mut groups[i];
            if list.len() >= field.max {
                return Err(XmlError::Unexpected {
                    path: here,
                    detail: format!("at most {} allowed here", field.max),
                });
            }
            list.push(child);
        }
        for (field, list) in &groups {
            if list.len() < field.min {
                return Err(XmlError::Missing {
                    path: format!("{}/{}", self.path, field.name),
                });
            }
        }
        Ok(Children {
            parent: self.path.clone(),
            groups,
        })
    }

    /// Refuses any attribute on this element.
    pub(crate) fn no_attrs(&self) -> Result<(), XmlError> {
        match self.node.attrs.first() {
            None => Ok(()),
            Some((_, name, _)) => Err(XmlError::Invalid {
                path: self.path.clone(),
                reason: format!("attribute {name:?} is not allowed here"),
            }),
        }
    }

    /// The text of a leaf element (no children, no attributes).
    pub(crate) fn leaf_text(&self) -> Result<&'a str, XmlError> {
        self.no_attrs()?;
        if let Some(c) = self.node.children.first() {
            return Err(XmlError::Unexpected {
                path: format!("{}/{}", self.path, c.name),
                detail: "a text element has no child elements".into(),
            });
        }
        Ok(&self.node.text)
    }

    /// The text of a leaf element of a `MaxNText` type: 1 to `max` characters.
    pub(crate) fn max_text(&self, max: usize) -> Result<String, XmlError> {
        let t = self.leaf_text()?;
        check_max_text(&self.path, t, max)?;
        Ok(t.to_string())
    }
}

/// Checks a `MaxNText` value: 1 to `max` characters.
pub(crate) fn check_max_text(path: &str, t: &str, max: usize) -> Result<(), XmlError> {
    let n = t.chars().count();
    if n == 0 {
        return Err(XmlError::Invalid {
            path: path.to_string(),
            reason: "text is empty".into(),
        });
    }
    if n > max {
        return Err(XmlError::Invalid {
            path: path.to_string(),
            reason: format!("text of {n} characters is longer than {max}"),
        });
    }
    Ok(())
}

impl<'a> Children<'a> {
    fn group(&self, name: &str) -> &[&'a Node] {
        self.groups
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, l)| l.as_slice())
            .unwrap_or(&[])
    }

    /// The single (required) child `name`.
    pub(crate) fn one(&self, name: &str) -> Result<El<'a>, XmlError> {
        self.opt(name)?.ok_or_else(|| XmlError::Missing {
            path: format!("{}/{}", self.parent, name),
        })
    }

    /// The optional child `name`.
    pub(crate) fn opt(&self, name: &str) -> Result<Option<El<'a>>, XmlError> {
        let g = self.group(name);
        Ok(g.first().map(|n| El {
            node: n,
            path: format!("{}/{}", self.parent, name),
        }))
    }

    /// Every child `name`, with 1-based positions in their paths.
    pub(crate) fn all(&self, name: &str) -> Vec<El<'a>> {
        self.group(name)
            .iter()
            .enumerate()
            .map(|(i, n)| El {
                node: n,
                path: format!("{}/{}[{}]", self.parent, name, i + 1),
            })
            .collect()
    }

    /// Exactly one of the choice's alternatives `names` must be present; returns its name and
    /// element.
    pub(crate) fn choice(
        &self,
        names: &[&'static str],
    ) -> Result<(&'static str, El<'a>), XmlError> {
        let mut found = None;
        for n in names {
            if let Some(e) = self.opt(n)? {
                if found.is_some() {
                    return Err(XmlError::Unexpected {
                        path: e.path,
                        detail: "only one alternative of the choice is allowed".into(),
                    });
                }
                found = Some((*n, e));
            }
        }
        found.ok_or_else(|| XmlError::Missing {
            path: format!("{}/{}", self.parent, names.join("|")),
        })
    }
}

/// Checks the root element: name `Document` in namespace `ns`, and returns the walker for it.
pub(crate) fn document<'a>(root: &'a Node, ns: &str) -> Result<El<'a>, XmlError> {
    if root.name != "Document" {
        return Err(XmlError::WrongDocument {
            path: root.name.clone(),
            expected: "root element Document".into(),
            found: format!("root element {}", root.name),
        });
    }
    if root.ns.as_deref() != Some(ns) {
        return Err(XmlError::WrongDocument {
            path: "Document".into(),
            expected: format!("namespace {ns}"),
            found: format!("namespace {}", root.ns.as_deref().unwrap_or("(none)")),
        });
    }
    Ok(El {
        node: root,
        path: "Document".into(),
    })
}

/// Escapes text content (and attribute values) for XML output. `\r` is written as a character
/// reference so that it survives line-end normalisation.
pub(crate) fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// A deterministic, indented XML writer.
pub(crate) struct Writer {
    out: String,
    open: Vec<&'static str>,
}

impl Writer {
    /// Starts a document with the XML declaration and the `Document` root in namespace `ns`.
    pub(crate) fn new(ns: &str) -> Self {
        let mut out =
            String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"");
        escape(ns, &mut out);
        out.push_str("\">\n");
        Writer {
            out,
            open: vec!["Document"],
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    /// Opens `<name>`.
    pub(crate) fn open(&mut self, name: &'static str) -> &mut Self {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(">\n");
        self.open.push(name);
        self
    }

    /// Opens `<name xmlns="ns">`.
    pub(crate) fn open_ns(&mut self, name: &'static str, ns: &str) -> &mut Self {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" xmlns=\"");
        escape(ns, &mut self.out);
        self.out.push_str("\">\n");
        self.open.push(name);
        self
    }

    /// Closes the innermost open element.
    pub(crate) fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.indent();
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push_str(">\n");
        }
        self
    }

    /// Writes `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &'static str, text: &str) -> &mut Self {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        escape(text, &mut self.out);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
        self
    }

    /// Writes `<name attr="value">text</name>`.
    pub(crate) fn leaf_attr(
        &mut self,
        name: &'static str,
        attr: &'static str,
        value: &str,
        text: &str,
    ) -> &mut Self {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push(' ');
        self.out.push_str(attr);
        self.out.push_str("=\"");
        escape(value, &mut self.out);
        self.out.push_str("\">");
        escape(text, &mut self.out);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
        self
    }

    /// Closes every open element, `Document` included, and returns the text.
    pub(crate) fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}
