//! kaohe-engine.
