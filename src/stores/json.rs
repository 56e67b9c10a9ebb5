//! Json store (being written).
use super::{Store, StoreOptions, StoreResult, StoreError};
use crate::tree::{Branch, Value};

pub struct JsonStore { options: StoreOptions }
impl JsonStore { pub fn new(options: StoreOptions, _binary: bool) -> Self { Self { options } } }
impl Store for JsonStore {
    fn load_plain(&self, _input: &[u8]) -> StoreResult<Vec<Branch>> { Err(StoreError(format!("{:?}", self.options))) }
    fn load_encrypted(&self, _input: &[u8]) -> StoreResult<Vec<Branch>> { Err(StoreError(String::new())) }
    fn emit(&self, _docs: &[Branch]) -> StoreResult<Vec<u8>> { Err(StoreError(String::new())) }
    fn emit_value(&self, _value: &Value) -> StoreResult<Vec<u8>> { Err(StoreError(String::new())) }
}
