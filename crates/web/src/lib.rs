//! kaohe-web.
