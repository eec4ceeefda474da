//! The native part of the `double_random` Python package: one function
//! that answers a request of the JSON contract with the GIL released. The
//! Python part (`double_random/__init__.py`) builds the requests, parses
//! the answers and raises `double_random.Error` for an error.

use pyo3::prelude::*;

/// Answers `command` with the JSON `request`, releasing the GIL while the
/// draw works; returns the contract's response envelope as JSON text.
#[pyfunction]
fn call(py: Python<'_>, command: &str, request: &str) -> String {
    let (command, request) = (command.to_string(), request.to_string());
    py.detach(move || double_random::contract::respond(&command, request.as_bytes()))
}

/// The contract's version, `double-random/1`.
#[pyfunction]
fn contract() -> &'static str {
    double_random::contract::CONTRACT
}

/// The module `double_random._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(call, m)?)?;
    m.add_function(wrap_pyfunction!(contract, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
