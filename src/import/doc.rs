//! A YAML document walked by path, remembering which fields were read, so that
//! whatever no converter touched is reported rather than lost.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_norway::Value;

use super::{Note, NoteKind};

/// One document of an input file.
pub struct Doc {
    pub place: String,
    root: Value,
    used: RefCell<BTreeSet<String>>,
    notes: RefCell<Vec<Note>>,
}

/// A field of a document: its value and its path (`spec.slos[0].name`).
#[derive(Clone)]
pub struct Node<'d> {
    doc: &'d Doc,
    pub value: &'d Value,
    pub path: String,
}

impl Doc {
    pub fn new(place: String, root: Value) -> Self {
        Self {
            place,
            root,
            used: RefCell::default(),
            notes: RefCell::default(),
        }
    }

    pub fn root(&self) -> Node<'_> {
        Node {
            doc: self,
            value: &self.root,
            path: String::new(),
        }
    }

    pub fn take_notes(&self) -> Vec<Note> {
        std::mem::take(&mut self.notes.borrow_mut())
    }

    fn note(&self, path: &str, kind: NoteKind, message: String) {
        self.notes.borrow_mut().push(Note {
            place: self.place.clone(),
            path: path.to_string(),
            kind,
            message,
        });
    }

    /// Reports every non-empty field that no converter read, at the highest
    /// level where nothing below was read.
    pub fn report_unread(&self) {
        self.unread(&self.root());
    }

    fn unread(&self, node: &Node<'_>) {
        if node.is_empty() || self.used.borrow().contains(&node.path) {
            return;
        }
        let read_below = {
            let used = self.used.borrow();
            let path = &node.path;
            used.iter().any(|u| {
                path.is_empty()
                    || (u.starts_with(path.as_str())
                        && matches!(u.as_bytes().get(path.len()), Some(b'.' | b'[')))
            })
        };
        if !read_below {
            self.note(
                &node.path,
                NoteKind::Dropped,
                "not a field slogate import knows; not carried over".into(),
            );
            return;
        }
        for (_, child) in node.entries() {
            self.unread(&child);
        }
        if let Value::Mapping(map) = node.value {
            if map.keys().any(|k| scalar_text(k).is_none()) {
                self.note(
                    &node.path,
                    NoteKind::Dropped,
                    "a mapping key that is not a plain value (a list or mapping as key) is not read".into(),
                );
            }
        }
        for item in node.items() {
            self.unread(&item);
        }
    }
}

/// A mapping key as it appears in a path: bare when it is a plain word.
fn key_in_path(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        key.to_string()
    } else {
        format!("[{key:?}]")
    }
}

/// A scalar as text: strings as they are, numbers and booleans as written.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl<'d> Node<'d> {
    fn child(&self, segment: String, value: &'d Value) -> Node<'d> {
        let path = if self.path.is_empty() || segment.starts_with('[') {
            format!("{}{segment}", self.path)
        } else {
            format!("{}.{segment}", self.path)
        };
        Node {
            doc: self.doc,
            value,
            path,
        }
    }

    /// The field `key`, unless it is missing or null.
    pub fn get(&self, key: &str) -> Option<Node<'d>> {
        let value = self.value.get(key).filter(|v| !v.is_null())?;
        Some(self.child(key_in_path(key), value))
    }

    /// The text of the scalar field `key`, marking it read.
    pub fn text_of(&self, key: &str) -> Option<String> {
        self.get(key)?.text()
    }

    /// This field's scalar text, marking it read; `None` for mappings and lists.
    pub fn text(&self) -> Option<String> {
        let text = scalar_text(self.value)?;
        self.mark();
        Some(text)
    }

    /// The items of a list (none for anything else).
    pub fn items(&self) -> Vec<Node<'d>> {
        match self.value {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| self.child(format!("[{i}]"), v))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The entries of a mapping with scalar keys (none for anything else).
    pub fn entries(&self) -> Vec<(String, Node<'d>)> {
        match self.value {
            Value::Mapping(map) => map
                .iter()
                .filter_map(|(k, v)| {
                    let key = scalar_text(k)?;
                    Some((key.clone(), self.child(key_in_path(&key), v)))
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Null, an empty string, an empty list or mapping: carries nothing.
    pub fn is_empty(&self) -> bool {
        match self.value {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            Value::Sequence(s) => s.is_empty(),
            Value::Mapping(m) => m.is_empty(),
            _ => false,
        }
    }

    /// Marks this field (and everything under it) as accounted for.
    pub fn mark(&self) {
        self.doc.used.borrow_mut().insert(self.path.clone());
    }

    /// Accounts for this field as not carried over, saying why (nothing when
    /// the field is empty).
    pub fn drop(&self, reason: impl Into<String>) {
        self.mark();
        if !self.is_empty() {
            self.doc.note(&self.path, NoteKind::Dropped, reason.into());
        }
    }

    /// Accounts for this SLO (everything under this field) as not imported.
    pub fn skip(&self, reason: impl Into<String>) {
        self.mark();
        self.doc
            .note(&self.path, NoteKind::NotImported, reason.into());
    }

    /// Says this field was carried over with a change of meaning. Marks
    /// nothing: what was read is marked by reading it, and fields under this
    /// one that were not read are still reported.
    pub fn approximate(&self, message: impl Into<String>) {
        self.doc
            .note(&self.path, NoteKind::Approximated, message.into());
    }

    /// A remark for the reader about this field (marks nothing).
    pub fn info(&self, message: impl Into<String>) {
        self.doc.note(&self.path, NoteKind::Info, message.into());
    }

    /// This field as a boolean, marking it read. YAML 1.1 spellings count
    /// (`yes`, `on`, `y`, ...), as in the Go YAML readers Sloth, Pyrra and
    /// OpenSLO tools use; anything else is dropped with a line.
    pub fn flag(&self) -> Option<bool> {
        let text = self.text()?;
        match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" => Some(true),
            "false" | "no" | "n" | "off" => Some(false),
            _ => {
                self.drop(format!("{text:?} is not a boolean"));
                None
            }
        }
    }

    /// The boolean field `key`, when present and readable.
    pub fn flag_of(&self, key: &str) -> Option<bool> {
        self.get(key)?.flag()
    }
}
