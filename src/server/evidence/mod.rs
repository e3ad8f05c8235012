//! Evidence of erasures: signed receipts of completed requests (`receipts`), the keys that sign them
//! (`receipt_keys`), and the residual check a receipt records (`residual`).

pub mod receipt_keys;
pub mod receipts;
pub mod residual;
