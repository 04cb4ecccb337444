//! `/metrics` read as Prometheus reads it: the text format (version 0.0.4) parsed into samples.

use std::{collections::BTreeMap, net::SocketAddr};

use super::test_app::TestApp;

/// One line of the text format: a series and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of one scrape.
#[derive(Debug)]
pub struct Scrape {
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Parses the text format; panics, naming the line, on anything it does not allow.
    pub fn parse(text: &str) -> Scrape {
        let samples = text
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| parse_sample(line).unwrap_or_else(|| panic!("not a sample: {line:?}")))
            .collect();
        Scrape { samples }
    }

    /// The sum of the samples called `name` whose labels include all of `labels`. A series
    /// that is not there at all fails the test rather than reading as 0.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let matching: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).is_some_and(|have| have == v))
            })
            .collect();
        assert!(
            !matching.is_empty(),
            "no sample {name}{labels:?} in the scrape; {name} has {:?}",
            self.samples
                .iter()
                .filter(|s| s.name == name)
                .map(|s| &s.labels)
                .collect::<Vec<_>>()
        );
        matching.iter().map(|s| s.value).sum()
    }

    /// [`value`](Self::value) of a count, as an integer.
    pub fn count(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let value = self.value(name, labels);
        assert!(value >= 0.0 && value.fract() == 0.0, "{name} = {value}");
        value as u64
    }

    /// Every label value of every sample.
    pub fn label_values(&self) -> impl Iterator<Item = &str> {
        self.samples
            .iter()
            .flat_map(|s| s.labels.values().map(String::as_str))
    }
}

/// `name{key="value",…} value [timestamp]`, with `\\`, `\"` and `\n` escaped in values.
fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = rest.split_once("=\"")?;
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        escaped => value.push(escaped),
                    },
                    (_, c) => value.push(c),
                }
            };
            labels.insert(key.to_string(), value);
            rest = &after[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

impl TestApp {
    /// `GET /metrics` on the main port, checked to be the text format and not cacheable.
    pub async fn scrape(&self) -> Scrape {
        self.scrape_at(self.addr).await
    }

    /// `GET /metrics` at `addr` (the main port, or the metrics listener's), checked.
    pub async fn scrape_at(&self, addr: SocketAddr) -> Scrape {
        let res = self
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(res.headers()["cache-control"], "no-store");
        Scrape::parse(&res.text().await.unwrap())
    }
}

#[test]
fn samples_are_read_with_their_escaped_labels() {
    let scrape = Scrape::parse(
        "# HELP a_total A.\n# TYPE a_total counter\n\
         a_total{route=\"/t/{tenant}/x\",q=\"say \\\"hi\\\"\\\\\\n\"} 3\n\
         b 1.5 1700000000\n\
         c_bucket{le=\"+Inf\"} 2\n",
    );
    assert_eq!(scrape.samples.len(), 3);
    assert_eq!(scrape.count("a_total", &[("route", "/t/{tenant}/x")]), 3);
    assert_eq!(scrape.samples[0].labels["q"], "say \"hi\"\\\n");
    assert_eq!(scrape.value("b", &[]), 1.5);
    assert_eq!(scrape.count("c_bucket", &[("le", "+Inf")]), 2);
}
