//! Moving stock by hand: transfers of many units between locations
//! (`transfer`), and taking a unit in stock out of use as faulty (dead on
//! arrival, then back to its supplier through an RMA) or scrapping it
//! (`condition`). Both write through `inventory::units` and its ledger.

pub mod condition;
pub mod transfer;
