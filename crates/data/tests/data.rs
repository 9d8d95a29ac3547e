//! Integration tests of kaohe-data: import from real-looking files, export → import round
//! trips, and the generator's guarantees.

mod data {
    mod import;
    mod round_trip;
    mod synth;
}
