//! Parsing a Redfish document keeping only the properties the collector
//! reads ([`KEPT`]); the rest is skipped without being built.

use serde_json::Value;

/// The properties the collector reads, at any depth (`Status` is kept whole).
/// [`parse_kept`] drops every other property while parsing; a test reads the
/// collector's sources and fails on a property read that is not here. Sorted.
pub const KEPT: &[&str] = &[
    "@odata.id",
    "BiosVersion",
    "CapacityBytes",
    "CapacityMiB",
    "Chassis",
    "DeviceLocator",
    "Devices",
    "Drives",
    "EnvironmentMetrics",
    "ExpandQuery",
    "FanName",
    "Fans",
    "FirmwareVersion",
    "Id",
    "InputPowerWatts",
    "LastPowerOutputWatts",
    "Levels",
    "Links",
    "ManagedBy",
    "Managers",
    "Manufacturer",
    "MediaType",
    "Members",
    "Memory",
    "Metrics",
    "Model",
    "Name",
    "NoLinks",
    "OutputPowerWatts",
    "PartLocation",
    "PartNumber",
    "PhysicalContext",
    "PhysicalLocation",
    "Power",
    "PowerCapacityWatts",
    "PowerConsumedWatts",
    "PowerControl",
    "PowerInputWatts",
    "PowerState",
    "PowerSubsystem",
    "PowerSupplies",
    "PowerWatts",
    "PredictedMediaLifeLeftPercent",
    "ProcessorType",
    "Processors",
    "Protocol",
    "ProtocolFeaturesSupported",
    "Reading",
    "ReadingCelsius",
    "ReadingType",
    "ReadingUnits",
    "Sensors",
    "SerialNumber",
    "ServiceLabel",
    "Sessions",
    "SimpleStorage",
    "Socket",
    "SpeedPercent",
    "SpeedRPM",
    "Status",
    "Storage",
    "Systems",
    "Temperatures",
    "Thermal",
    "ThermalSubsystem",
    "Thresholds",
    "TotalCores",
    "UpperCaution",
    "UpperCritical",
    "UpperFatal",
    "UpperThresholdCritical",
    "UpperThresholdFatal",
    "UpperThresholdNonCritical",
];

fn is_kept(property: &str) -> bool {
    KEPT.binary_search(&property).is_ok()
}

/// Parses a Redfish document keeping only the properties in [`KEPT`]: the
/// rest (OEM sections, actions, descriptions, links the collector never
/// follows) is skipped without being built. A `public-rackmount1` poll
/// parses about a third of the values it would otherwise, and building
/// `Value`s (their maps and strings) was most of the poller's JSON and
/// allocation time (poll benchmark).
pub fn parse_kept(body: &[u8]) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(body);
    let v = Kept { whole: false }.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Builds a `Value` of the kept properties (`whole`: everything, inside `Status`).
#[derive(Clone, Copy)]
struct Kept {
    whole: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for Kept {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Kept {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key_seed(Key)? {
            if self.whole || is_kept(&key) {
                let whole = self.whole || key == "Status";
                let v = map.next_value_seed(Kept { whole })?;
                out.insert(key.into_owned(), v);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

/// A property name, borrowed from the document when it has no escapes.
struct Key;

impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a property name")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What [`parse_kept`] must give, written the plain way: the whole
    /// document, then every property not in [`KEPT`] removed.
    fn pruned(v: Value, whole: bool) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .filter(|(k, _)| whole || is_kept(k))
                    .map(|(k, v)| {
                        let whole = whole || k == "Status";
                        (k, pruned(v, whole))
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(|v| pruned(v, whole)).collect()),
            other => other,
        }
    }

    fn documents(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("mockups") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                documents(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }

    #[test]
    fn kept_properties_are_sorted_so_they_can_be_searched() {
        assert!(KEPT.windows(2).all(|w| w[0] < w[1]));
    }

    /// The string literals of `src`, without their quotes (no escapes in them).
    fn literals(src: &str) -> Vec<&str> {
        src.split('"').skip(1).step_by(2).collect()
    }
    #[test]
    fn every_property_the_collector_reads_is_kept() {
        let sources = [
            include_str!("collect.rs"),
            include_str!("thermal.rs"),
            include_str!("client/mod.rs"),
            include_str!("client/auth.rs"),
            include_str!("client/redirect.rs"),
            include_str!("client/tls.rs"),
            include_str!("client/transport.rs"),
        ];
        let mut read = Vec::new();
        for src in sources {
            let code = src.split("#[cfg(test)]").next().unwrap_or(src);
            // JSON pointers: "/Status/Health", "/PowerControl/0/PowerConsumedWatts".
            for lit in literals(code) {
                if lit.starts_with('/') && !lit.starts_with("/redfish") && lit.len() > 1 {
                    // Everything inside `Status` is kept.
                    let segs = lit.split('/').skip(1).take_while(|s| *s != "Status");
                    read.extend(segs.map(str::to_owned));
                }
            }
            // Properties by name: link(v, "Thermal"), array(&t, "Fans"), ...
            for call in ["link(", "links(", "field(", "array("] {
                for (i, _) in code.match_indices(call) {
                    // Our functions, not methods such as `debug_struct().field(`.
                    let before = code[..i].chars().next_back().unwrap_or(' ');
                    if before == '.' || before == '_' || before.is_alphanumeric() {
                        continue;
                    }
                    let args = &code[i + call.len()..];
                    let args = &args[..args.find(')').unwrap_or(args.len())];
                    read.extend(literals(args).into_iter().map(str::to_owned));
                }
            }
        }
        assert!(read.len() > 50, "{read:?}");
        let missing: Vec<&String> = read
            .iter()
            .filter(|seg| seg.parse::<usize>().is_err() && !is_kept(seg))
            .collect();
        assert!(missing.is_empty(), "read but not in KEPT: {missing:?}");
        // And the scan does find what it looks for.
        assert!(read.iter().any(|s| s == "PowerConsumedWatts"));
        assert!(read.iter().any(|s| s == "Temperatures"));
    }

    #[test]
    fn every_mockup_document_parses_to_its_kept_properties() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redfish-mockups");
        let mut files = Vec::new();
        documents(&root, &mut files);
        assert!(files.len() > 100, "{} documents", files.len());
        let (mut before, mut after) = (0, 0);
        for f in files {
            let bytes = std::fs::read(&f).expect("read");
            let whole: Value = serde_json::from_slice(&bytes).expect("JSON");
            let kept = parse_kept(&bytes).expect("parses");
            before += whole.to_string().len();
            after += kept.to_string().len();
            assert_eq!(kept, pruned(whole, false), "{}", f.display());
        }
        assert!(after < before / 2, "{after} of {before} bytes kept");
    }

    #[test]
    fn kept_parsing_refuses_what_json_refuses_and_reads_escaped_names() {
        assert!(parse_kept(br#"{"Name": "a"} x"#).is_err());
        assert!(parse_kept(br#"{"Name": "a""#).is_err());
        assert!(parse_kept(br#"{"Oem": {"x": [1, }}"#).is_err());
        let v = parse_kept(br#"{"Na\u006de": "CPU1", "Oem": {"Name": 1}, "Status": {"Oem": 2}}"#)
            .expect("parses");
        assert_eq!(v, json!({"Name": "CPU1", "Status": {"Oem": 2}}));
    }
}
