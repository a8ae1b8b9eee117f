//! The text forms of a build template's slots and ports: `CPU1-2: MPN`
//! lines parsed into slots, and a template's slots written back as lines
//! (to edit it).

use crate::i18n::Msg;

use super::templates::Slot;

/// One parsed slot line: the slot names it expands to, optional flag, MPNs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotLine {
    /// Expanded slot names.
    pub names: Vec<String>,
    /// Whether the slots may stay empty.
    pub optional: bool,
    /// Accepted MPNs.
    pub mpns: Vec<String>,
}

/// Expands `CPU1-2` to `CPU1, CPU2` and `DIMM A1-A8` to `DIMM A1 … DIMM A8`;
/// anything else is one slot.
pub fn expand_slots(spec: &str) -> Vec<String> {
    let spec = spec.trim();
    let Some((head, tail)) = spec.rsplit_once('-') else {
        return vec![spec.to_owned()];
    };
    let digits_at = head.len() - head.chars().rev().take_while(char::is_ascii_digit).count();
    let (prefix, from) = head.split_at(digits_at);
    let to_text = tail.trim_start_matches(|c: char| !c.is_ascii_digit());
    let tail_prefix = &tail[..tail.len() - to_text.len()];
    let (Ok(from), Ok(to)) = (from.parse::<u32>(), to_text.parse::<u32>()) else {
        return vec![spec.to_owned()];
    };
    let same_prefix = tail_prefix.is_empty() || prefix.trim_end().ends_with(tail_prefix.trim());
    if !same_prefix || to < from || to - from > 64 {
        return vec![spec.to_owned()];
    }
    (from..=to).map(|n| format!("{prefix}{n}")).collect()
}

/// Parses port lines (`swp1-48: 25G`) into (port name, speed) pairs.
pub fn parse_port_lines(text: &str) -> Result<Vec<(String, String)>, Msg> {
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (names, speed) = line.split_once(':').unwrap_or((line, ""));
        if names.trim().is_empty() {
            return Err(Msg::new("templates.bad_line")
                .arg("line", i + 1)
                .arg("text", line.trim()));
        }
        out.extend(
            expand_slots(names)
                .into_iter()
                .map(|n| (n, speed.trim().to_owned())),
        );
    }
    Ok(out)
}

/// Parses the slot lines of a template form; errors name the line.
pub fn parse_slot_lines(text: &str) -> Result<Vec<SlotLine>, Msg> {
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let Some((slots, mpns)) = line.split_once(':') else {
            return Err(Msg::new("templates.bad_line")
                .arg("line", i + 1)
                .arg("text", line.trim()));
        };
        let (slots, optional) = match slots.trim().strip_suffix('?') {
            Some(s) => (s, true),
            None => (slots.trim(), false),
        };
        let mpns: Vec<String> = mpns
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect();
        if slots.is_empty() || mpns.is_empty() {
            return Err(Msg::new("templates.bad_line")
                .arg("line", i + 1)
                .arg("text", line.trim()));
        }
        out.push(SlotLine {
            names: expand_slots(slots),
            optional,
            mpns,
        });
    }
    if out.is_empty() {
        return Err(Msg::new("templates.no_slots"));
    }
    Ok(out)
}

/// The slot lines that give back `slots` (the edit form of a template):
/// runs of numbered slots accepting the same parts become one range line.
pub fn slot_lines_of(slots: &[Slot]) -> String {
    // (prefix, first number, last number, optional, MPNs) of the line being built.
    let mut out: Vec<String> = Vec::new();
    let mut run: Option<(String, u32, u32, bool, Vec<String>)> = None;
    let flush = |run: Option<(String, u32, u32, bool, Vec<String>)>, out: &mut Vec<String>| {
        if let Some((prefix, from, to, optional, mpns)) = run {
            let names = if from == to {
                format!("{prefix}{from}")
            } else {
                format!("{prefix}{from}-{to}")
            };
            let mark = if optional { "?" } else { "" };
            out.push(format!("{names}{mark}: {}", mpns.join(", ")));
        }
    };
    for slot in slots {
        let mpns: Vec<String> = slot.accepts.iter().map(|(_, m)| m.clone()).collect();
        let name = slot.slot_name.as_str();
        let digits = name.len() - name.chars().rev().take_while(char::is_ascii_digit).count();
        let (prefix, number) = name.split_at(digits);
        // A number with a leading zero (`NVMe01`) would not come back the same.
        let number = number
            .parse::<u32>()
            .ok()
            .filter(|n| n.to_string() == number);
        let Some(n) = number else {
            flush(run.take(), &mut out);
            let mark = if slot.optional { "?" } else { "" };
            out.push(format!("{name}{mark}: {}", mpns.join(", ")));
            continue;
        };
        if let Some((p, _, to, optional, m)) = &mut run
            && p == prefix
            && *to + 1 == n
            && *optional == slot.optional
            && *m == mpns
        {
            *to = n;
            continue;
        }
        flush(run.take(), &mut out);
        run = Some((prefix.to_owned(), n, n, slot.optional, mpns));
    }
    flush(run, &mut out);
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(name: &str, optional: bool, mpns: &[&str]) -> Slot {
        Slot {
            id: 0,
            slot_name: name.to_owned(),
            optional,
            accepts: mpns.iter().map(|m| (0, (*m).to_owned())).collect(),
        }
    }

    #[test]
    fn a_templates_slots_are_written_back_as_lines_that_parse_to_the_same_slots() {
        let slots = vec![
            slot("CPU1", false, &["100-000001463"]),
            slot("CPU2", false, &["100-000001463"]),
            slot("DIMM A1", false, &["M321R4GA3BB6-CQK"]),
            slot("DIMM A2", false, &["M321R4GA3BB6-CQK"]),
            slot("DIMM A3", false, &["M321R4GA3BB6-CQK"]),
            slot("NIC1", false, &["MCX631432AN-ADAB", "MCX623106AN-CDAT"]),
            slot("GPU1", true, &["A"]),
            slot("GPU2", false, &["A"]),
            slot("PSU", false, &["P"]),
            slot("NVMe01", false, &["N"]),
        ];
        let text = slot_lines_of(&slots);
        assert_eq!(
            text,
            "CPU1-2: 100-000001463\nDIMM A1-3: M321R4GA3BB6-CQK\nNIC1: MCX631432AN-ADAB, MCX623106AN-CDAT\nGPU1?: A\nGPU2: A\nPSU: P\nNVMe01: N"
        );
        let back: Vec<(String, bool, Vec<String>)> = parse_slot_lines(&text)
            .expect("parses")
            .into_iter()
            .flat_map(|l| {
                l.names
                    .into_iter()
                    .map(move |n| (n, l.optional, l.mpns.clone()))
            })
            .collect();
        let want: Vec<(String, bool, Vec<String>)> = slots
            .iter()
            .map(|s| {
                let m = s.accepts.iter().map(|(_, m)| m.clone()).collect();
                (s.slot_name.clone(), s.optional, m)
            })
            .collect();
        assert_eq!(back, want);
    }

    #[test]
    fn slot_ranges_expand() {
        assert_eq!(expand_slots("CPU1-2"), vec!["CPU1", "CPU2"]);
        assert_eq!(
            expand_slots("DIMM A1-A4"),
            vec!["DIMM A1", "DIMM A2", "DIMM A3", "DIMM A4"]
        );
        assert_eq!(expand_slots("NVMe0-1"), vec!["NVMe0", "NVMe1"]);
        assert_eq!(expand_slots("PSU"), vec!["PSU"]);
        assert_eq!(expand_slots("X-Y"), vec!["X-Y"]);
    }

    #[test]
    fn slot_lines_parse_with_optional_marks_and_name_bad_lines() {
        let lines = parse_slot_lines("CPU1-2: 100-000001463\n\nGPU1?: A, B\n").expect("parses");
        assert_eq!(lines.len(), 2);
        assert!(lines[1].optional);
        assert_eq!(lines[1].mpns, vec!["A", "B"]);
        let e = parse_slot_lines("CPU1 100-000001463").expect_err("no colon");
        assert_eq!(e.key, "templates.bad_line");
    }
}
