//! Spin's variable templates: `"{{ name }}"`, optionally mixed with literal text.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// A parsed template such as `"https://{{ host }}/api"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("template {text:?} has an unclosed '{{{{'"))?;
            let name = after[..close].trim();
            if !is_variable_name(name) {
                return Err(format!(
                    "template {text:?} names {name:?}, which is not a variable name \
                     (lowercase letters, digits and '_', starting with a letter)"
                ));
            }
            parts.push(Part::Variable(name.to_string()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Self { parts })
    }

    /// The application variables this template refers to.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Fills the template; `None` names the first variable that has no value.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable(name) => out.push_str(values.get(name).ok_or_else(|| name.clone())?),
            }
        }
        Ok(out)
    }
}

/// Spin's rule for variable names.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn renders_literals_and_variables() {
        let template = Template::parse("https://{{ host }}:{{port}}/x").unwrap();
        assert_eq!(template.variables().collect::<Vec<_>>(), ["host", "port"]);
        let rendered = template.render(&values(&[("host", "a.example"), ("port", "8443")]));
        assert_eq!(rendered.unwrap(), "https://a.example:8443/x");
    }

    #[test]
    fn plain_text_is_a_literal() {
        assert_eq!(Template::parse("20").unwrap().render(&values(&[])).unwrap(), "20");
    }

    #[test]
    fn reports_the_missing_variable() {
        let template = Template::parse("{{ a }}").unwrap();
        assert_eq!(template.render(&values(&[])), Err("a".to_string()));
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(Template::parse("{{ a").unwrap_err().contains("unclosed"));
        assert!(Template::parse("{{ Bad-Name }}").unwrap_err().contains("not a variable name"));
    }
}
