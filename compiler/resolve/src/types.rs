//! Variable type constraints (`string`, `list(number)`, `object({ a = string })`, ...) and the
//! conversions Terraform users expect: numbers and bools to strings, numeric strings to numbers.

use berth_model::{Object, Value};
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use std::collections::BTreeMap;

/// A type constraint.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// Anything.
    Any,
    /// A string.
    String,
    /// A number.
    Number,
    /// A bool.
    Bool,
    /// A list of one element type.
    List(Box<Type>),
    /// A set of one element type.
    Set(Box<Type>),
    /// A map of one element type.
    Map(Box<Type>),
    /// An object with typed attributes; `true` marks optional ones.
    Object(BTreeMap<String, (Type, bool)>),
    /// A tuple of element types.
    Tuple(Vec<Type>),
}

impl Type {
    /// Parses a type expression. Errors name what was expected.
    pub fn parse(expr: &Expression) -> Result<Type, String> {
        match expr {
            Expression::Variable(v) => match v.as_str() {
                "any" => Ok(Type::Any),
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                other => Err(format!("unknown type `{other}`")),
            },
            Expression::FuncCall(call) => {
                let args: Vec<&Expression> = call.args.iter().collect();
                let [arg] = args.as_slice() else {
                    return Err(format!("`{}(...)` takes one argument", call.name.name.as_str()));
                };
                match call.name.name.as_str() {
                    "list" => Ok(Type::List(Box::new(Type::parse(arg)?))),
                    "set" => Ok(Type::Set(Box::new(Type::parse(arg)?))),
                    "map" => Ok(Type::Map(Box::new(Type::parse(arg)?))),
                    "object" => {
                        let Expression::Object(obj) = arg else {
                            return Err("object(...) takes an object of attribute types".into());
                        };
                        let mut attrs = BTreeMap::new();
                        for (key, value) in obj.iter() {
                            let name = match key {
                                ObjectKey::Ident(i) => i.as_str().to_string(),
                                ObjectKey::Expression(Expression::String(s)) => s.as_str().to_string(),
                                _ => return Err("object attribute names must be plain names".into()),
                            };
                            attrs.insert(name, Self::parse_attr(value.expr())?);
                        }
                        Ok(Type::Object(attrs))
                    }
                    "tuple" => {
                        let Expression::Array(items) = arg else {
                            return Err("tuple(...) takes a list of element types".into());
                        };
                        Ok(Type::Tuple(items.iter().map(Type::parse).collect::<Result<_, _>>()?))
                    }
                    other => Err(format!("unknown type constructor `{other}`")),
                }
            }
            Expression::Traversal(t)
                if t.operators.iter().all(|o| matches!(o.value(), TraversalOperator::GetAttr(_))) =>
            {
                Err("type names are plain words, such as string or list(number)".into())
            }
            _ => Err("expected a type such as string, number, bool, any, list(T), map(T) or object({...})".into()),
        }
    }

    fn parse_attr(expr: &Expression) -> Result<(Type, bool), String> {
        if let Expression::FuncCall(call) = expr
            && call.name.name.as_str() == "optional"
        {
            let first = call.args.iter().next().ok_or("optional(...) takes a type")?;
            return Ok((Type::parse(first)?, true));
        }
        Ok((Type::parse(expr)?, false))
    }

    /// Converts a value to this type, or says why it cannot be.
    pub fn convert(&self, value: &Value) -> Result<Value, String> {
        match (self, value) {
            (_, Value::Null) | (Type::Any, _) => Ok(value.clone()),
            (_, Value::Ref(_)) => Ok(value.clone()),
            (Type::String, Value::String(_)) => Ok(value.clone()),
            (Type::String, Value::Number(_) | Value::Bool(_)) => Ok(Value::string(value.to_string())),
            (Type::Number, Value::Number(_)) => Ok(value.clone()),
            (Type::Number, Value::String(s)) => {
                s.trim().parse::<f64>().map(Value::Number).map_err(|_| format!("a number is required, not {value}"))
            }
            (Type::Bool, Value::Bool(_)) => Ok(value.clone()),
            (Type::Bool, Value::String(s)) => match &**s {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(format!("a bool is required, not {value}")),
            },
            (Type::List(elem), Value::List(items)) => convert_items(elem, items).map(Value::list),
            (Type::Set(elem), Value::List(items)) => {
                let mut items = convert_items(elem, items)?;
                items.sort_by(crate::functions::compare);
                items.dedup();
                Ok(Value::list(items))
            }
            (Type::Map(elem), Value::Object(entries)) => entries
                .iter()
                .map(|(k, v)| elem.convert(v).map(|v| (k.clone(), v)).map_err(|e| format!("element {k:?}: {e}")))
                .collect::<Result<Object, _>>()
                .map(Value::object),
            (Type::Object(attrs), Value::Object(entries)) => {
                let mut out = BTreeMap::new();
                for (name, (ty, optional)) in attrs {
                    match entries.get(name) {
                        Some(v) => {
                            out.insert(name.clone(), ty.convert(v).map_err(|e| format!("attribute {name:?}: {e}"))?);
                        }
                        None if *optional => {
                            out.insert(name.clone(), Value::Null);
                        }
                        None => return Err(format!("attribute {name:?} is required")),
                    }
                }
                Ok(Value::object(out.into()))
            }
            (Type::Tuple(types), Value::List(items)) => {
                if types.len() != items.len() {
                    return Err(format!("a tuple of {} elements is required, not {}", types.len(), items.len()));
                }
                types
                    .iter()
                    .zip(items.iter())
                    .enumerate()
                    .map(|(i, (t, v))| t.convert(v).map_err(|e| format!("element {i}: {e}")))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::list)
            }
            _ => Err(format!("{} required, not {}", self.describe(), value.type_name())),
        }
    }

    /// The type as written in a spec.
    pub fn describe(&self) -> String {
        match self {
            Type::Any => "any".into(),
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::List(t) => format!("list({})", t.describe()),
            Type::Set(t) => format!("set({})", t.describe()),
            Type::Map(t) => format!("map({})", t.describe()),
            Type::Object(_) => "object".into(),
            Type::Tuple(_) => "tuple".into(),
        }
    }
}

fn convert_items(elem: &Type, items: &[Value]) -> Result<Vec<Value>, String> {
    items.iter().enumerate().map(|(i, v)| elem.convert(v).map_err(|e| format!("element {i}: {e}"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Type {
        Type::parse(&hcl_edit::parser::parse_expr(src).unwrap()).unwrap()
    }

    #[test]
    fn parses_and_converts_nested_types() {
        let t = ty("object({ name = string, size = number, tags = optional(map(string)) })");
        let v = Value::from_json(&serde_json::json!({"name": "a", "size": "3", "extra": 1}));
        let got = t.convert(&v).unwrap();
        assert_eq!(got.to_json(), serde_json::json!({"name": "a", "size": 3, "tags": null}));
        assert!(
            ty("list(number)").convert(&Value::from_json(&serde_json::json!(["x"]))).unwrap_err().contains("element 0")
        );
        assert_eq!(
            ty("set(string)").convert(&Value::from_json(&serde_json::json!(["b", "a", "b"]))).unwrap().to_json(),
            serde_json::json!(["a", "b"])
        );
    }

    #[test]
    fn rejects_unknown_types() {
        assert!(Type::parse(&hcl_edit::parser::parse_expr("strng").unwrap()).unwrap_err().contains("strng"));
    }
}
