//! Fields several bodies share: what kind and size a slot or vehicle is.

use joule_sdk::api::{Problems, Reader};

use crate::lot::{Kind, Size};

pub fn kind(reader: &Reader<'_>, problems: &mut Problems) -> Option<Kind> {
    named(reader, "kind", Kind::parse, &Kind::ALL.map(Kind::as_str), problems)
}

pub fn size(reader: &Reader<'_>, problems: &mut Problems) -> Option<Size> {
    named(reader, "size", Size::parse, &Size::ALL.map(Size::as_str), problems)
}

/// A required field holding one of `names`, exactly as written there.
fn named<T>(
    reader: &Reader<'_>,
    key: &str,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
    problems: &mut Problems,
) -> Option<T> {
    let text = reader.string(key, 16, problems)?;
    let value = parse(&text);
    if value.is_none() {
        problems.add(reader.path(key), format!("must be one of {}", names.join(", ")));
    }
    value
}
