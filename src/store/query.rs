//! What Locate and list ask for, and the re-check of a candidate against its verified record.

use super::record::{AttrValue, ObjectType, Owner, Record, State, UniqueIdentifier};

/// A Locate: every filter set must match (conjunction). Answers are newest first (by creation
/// sequence), after `offset` matches are skipped, at most `maximum` of them.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only objects of this owner (the service sets it unless the caller may see all).
    pub owner: Option<Owner>,
    pub object_type: Option<ObjectType>,
    /// Any of these states; empty means any state.
    pub states: Vec<State>,
    /// An object having this name (any instance).
    pub name: Option<String>,
    /// Attribute conditions, each met by at least one instance of the attribute.
    pub attributes: Vec<AttributeFilter>,
    /// Whether destroyed objects (metadata kept, material gone) are answered.
    pub include_destroyed: bool,
    /// Matches to skip (KMIP Offset Items).
    pub offset: usize,
    /// Most identifiers answered (KMIP Maximum Items); `None` means all.
    pub maximum: Option<usize>,
    /// Count every match (KMIP Located Items) even past `offset + maximum`; costs a scan of
    /// every candidate.
    pub count_total: bool,
}

/// One attribute condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeFilter {
    pub name: String,
    pub condition: Condition,
}

impl AttributeFilter {
    pub fn equals(name: impl Into<String>, value: AttrValue) -> Self {
        Self {
            name: name.into(),
            condition: Condition::Equals(value),
        }
    }

    /// Inclusive range of a numeric or date value (both bounds of the same kind).
    pub fn between(name: impl Into<String>, min: AttrValue, max: AttrValue) -> Self {
        Self {
            name: name.into(),
            condition: Condition::Between { min, max },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Equals(AttrValue),
    /// `min <= value <= max`, for Integer, Long Integer, Enumeration, Date-Time and Interval
    /// values of the same kind as the bounds.
    Between {
        min: AttrValue,
        max: AttrValue,
    },
}

/// The answer of a Locate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Located {
    pub unique_identifiers: Vec<UniqueIdentifier>,
    /// Every match, ignoring offset and maximum: set when the query asked `count_total`.
    pub total: Option<usize>,
}

/// A listing by owner, type and state.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub owner: Option<Owner>,
    pub object_type: Option<ObjectType>,
    pub state: Option<State>,
    pub offset: usize,
    pub maximum: Option<usize>,
}

impl From<&ListFilter> for Query {
    fn from(f: &ListFilter) -> Self {
        Query {
            owner: f.owner.clone(),
            object_type: f.object_type,
            states: f.state.into_iter().collect(),
            include_destroyed: true,
            offset: f.offset,
            maximum: f.maximum,
            ..Query::default()
        }
    }
}

fn numeric(v: &AttrValue) -> Option<(u8, i128)> {
    let n = match v {
        AttrValue::Integer(i) => i128::from(*i),
        AttrValue::LongInteger(i) | AttrValue::DateTime(i) => i128::from(*i),
        AttrValue::Enumeration(u) | AttrValue::Interval(u) => i128::from(*u),
        _ => return None,
    };
    Some((v.type_tag(), n))
}

impl Condition {
    pub(crate) fn accepts(&self, v: &AttrValue) -> bool {
        match self {
            Condition::Equals(want) => v == want,
            Condition::Between { min, max } => match (numeric(min), numeric(max), numeric(v)) {
                (Some((tl, lo)), Some((th, hi)), Some((tv, x))) => {
                    tl == tv && th == tv && lo <= x && x <= hi
                }
                _ => false,
            },
        }
    }
}

impl Query {
    /// The re-check: does this verified record satisfy every filter? Index hits that fail it
    /// (stale or forged entries) are dropped here.
    pub(crate) fn matches(&self, r: &Record) -> bool {
        if self.owner.as_ref().is_some_and(|o| *o != r.owner) {
            return false;
        }
        if self.object_type.is_some_and(|t| t != r.object_type) {
            return false;
        }
        if !self.states.is_empty() && !self.states.contains(&r.state) {
            return false;
        }
        if self.name.as_deref().is_some_and(|n| !r.has_name(n)) {
            return false;
        }
        if !self.include_destroyed && r.is_destroyed() {
            return false;
        }
        self.attributes
            .iter()
            .all(|f| r.attribute(&f.name).any(|v| f.condition.accepts(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> Record {
        Record::new(
            UniqueIdentifier::new("u"),
            Owner::new("o"),
            ObjectType::SYMMETRIC_KEY,
            State::ACTIVE,
        )
        .with_attribute("Activation Date", AttrValue::DateTime(100))
        .with_attribute("x-a", AttrValue::Text("1".into()))
        .with_attribute("x-a", AttrValue::Text("2".into()))
    }

    #[test]
    fn accepts_any_instance_and_inclusive_ranges() {
        let r = rec();
        let q = |f| Query {
            attributes: vec![f],
            ..Query::default()
        };
        assert!(q(AttributeFilter::equals("x-a", AttrValue::Text("2".into()))).matches(&r));
        let d = |a, b| {
            AttributeFilter::between(
                "Activation Date",
                AttrValue::DateTime(a),
                AttrValue::DateTime(b),
            )
        };
        assert!(q(d(100, 100)).matches(&r));
        assert!(!q(d(101, 200)).matches(&r));
        let wrong_kind = AttributeFilter::between(
            "Activation Date",
            AttrValue::LongInteger(0),
            AttrValue::LongInteger(200),
        );
        assert!(!q(wrong_kind).matches(&r));
    }

    #[test]
    fn rejects_other_owner_state_and_destroyed() {
        let mut r = rec();
        assert!(!Query {
            owner: Some(Owner::new("p")),
            ..Query::default()
        }
        .matches(&r));
        assert!(!Query {
            states: vec![State::DEACTIVATED],
            ..Query::default()
        }
        .matches(&r));
        r.state = State::DESTROYED;
        assert!(!Query::default().matches(&r));
        assert!(Query {
            include_destroyed: true,
            ..Query::default()
        }
        .matches(&r));
    }
}
