//! What `/metrics` reads when it is scraped rather than keeps counting: the database pool's
//! connections and how long the current signing key has been signing.

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, gauge::ConstGauge},
    registry::{Registry, Unit},
};

use super::OAuthService;

impl OAuthService {
    /// Adds this instance's counts, and the gauges read at each scrape, to `registry`.
    pub fn register_metrics(&self, registry: &mut Registry) {
        self.inner.metrics.register(registry);
        registry.register_collector(Box::new(ScrapeTimeGauges {
            oauth: self.clone(),
        }));
    }
}

#[derive(Debug)]
struct ScrapeTimeGauges {
    oauth: OAuthService,
}

impl Collector for ScrapeTimeGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let pool = self.oauth.inner.db.pool_stats();
        {
            let mut connections = encoder.encode_descriptor(
                "db_pool_connections",
                "Connections of this instance's database pool, handed out (in_use) or open and \
                 waiting (idle).",
                None,
                MetricType::Gauge,
            )?;
            for (state, count) in [("in_use", pool.in_use), ("idle", pool.idle)] {
                let labels = [("state", state)];
                ConstGauge::new(i64::from(count)).encode(connections.encode_family(&labels)?)?;
            }
        }
        ConstGauge::new(i64::from(pool.max)).encode(encoder.encode_descriptor(
            "db_pool_max_connections",
            "The most connections this instance's database pool opens.",
            None,
            MetricType::Gauge,
        )?)?;
        if let Some(age) = self.oauth.signing_key_age() {
            ConstGauge::new(age).encode(encoder.encode_descriptor(
                "signing_key_age",
                "Seconds since the key that signs access tokens now started signing.",
                Some(&Unit::Seconds),
                MetricType::Gauge,
            )?)?;
        }
        Ok(())
    }
}
