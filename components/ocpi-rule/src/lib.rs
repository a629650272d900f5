//! The default pricing rule, `ocpi`: OCPI 2.2.1 tariffs.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the export glue the macro generates")]
mod export {
    use joule_sdk::pricing::{Error, PriceBreakdown, QuoteInput, Rule};
    use ocpi_tariff::joule::{quote, to_wit};

    struct Ocpi;

    impl Rule for Ocpi {
        fn price(input: QuoteInput) -> Result<PriceBreakdown, Error> {
            quote(&input).map(|breakdown| to_wit(&breakdown))
        }
    }

    joule_sdk::export_pricing_rule!(Ocpi);
}
