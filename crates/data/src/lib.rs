//! kaohe-data.
