//! Typing cell text: exact numbers, currencies and dates.

pub(crate) mod currency;
pub(crate) mod dates;
pub(crate) mod numbers;
