//! The baseline of the scale comparison: the csv crate's bare `ByteRecord`
//! loop over a file, counting fields. `cargo run --release --example csv_parse -- FILE`
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: csv_parse FILE")?;
    let start = Instant::now();
    let mut reader = csv::Reader::from_path(&path)?;
    let mut record = csv::ByteRecord::new();
    let (mut rows, mut fields) = (0u64, 0u64);
    while reader.read_byte_record(&mut record)? {
        rows += 1;
        fields += record.len() as u64;
    }
    println!("{rows} rows, {fields} fields in {:.3} s", start.elapsed().as_secs_f64());
    Ok(())
}
