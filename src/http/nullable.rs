//! How the OpenAPI document spells a value that may be null: `anyOf` of the value's own
//! schema and `null`, where schemars writes `type: [T, "null"]` beside T's constraints.
//! The two mean the same to a validator, but tools that generate data read the second
//! loosely: asked for a string one character longer than `maxLength`, schemathesis may
//! send `null`, which the schema allows. Spelled out, the constraints belong to the
//! string alone.

use serde_json::{Map, Value, json};

/// Keywords that describe a schema without constraining it; they stay where they are.
const ANNOTATIONS: [&str; 7] = [
    "description",
    "title",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Rewrites every nullable schema with constraints in `document`, at any depth.
pub fn spell_out(document: &mut Value) {
    match document {
        Value::Object(map) => {
            map.values_mut().for_each(spell_out);
            split(map);
        }
        Value::Array(items) => items.iter_mut().for_each(spell_out),
        _ => {}
    }
}

fn split(schema: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = schema.get("type") else {
        return;
    };
    let null = json!("null");
    let [first, second] = types.as_slice() else {
        return;
    };
    let own_type = match (first == &null, second == &null) {
        (false, true) => first.clone(),
        (true, false) => second.clone(),
        _ => return,
    };
    let constraints: Vec<String> = schema
        .keys()
        .filter(|key| *key != "type" && !ANNOTATIONS.contains(&key.as_str()))
        .cloned()
        .collect();
    if constraints.is_empty() {
        return;
    }
    let mut own = Map::new();
    own.insert("type".to_owned(), own_type);
    for key in constraints {
        if let Some(value) = schema.remove(&key) {
            own.insert(key, value);
        }
    }
    schema.remove("type");
    schema.insert("anyOf".to_owned(), json!([own, { "type": "null" }]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_move_to_the_non_null_branch() {
        let mut document = json!({
            "properties": {
                "type": { "type": "string" },
                "email": {
                    "description": "who",
                    "type": ["string", "null"],
                    "maxLength": 320,
                    "pattern": "^a$",
                },
                "plain": { "type": ["string", "null"] },
            }
        });
        spell_out(&mut document);
        assert_eq!(
            document,
            json!({
                "properties": {
                    "type": { "type": "string" },
                    "email": {
                        "description": "who",
                        "anyOf": [
                            { "type": "string", "maxLength": 320, "pattern": "^a$" },
                            { "type": "null" },
                        ],
                    },
                    "plain": { "type": ["string", "null"] },
                }
            })
        );
    }
}
