//! kaohe-store.
