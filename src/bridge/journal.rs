//! Placeholder journal until the full implementation lands.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

pub struct Journal {
    file: File,
    path: PathBuf,
}

#[derive(Debug)]
pub struct SkippedLine {
    pub line: usize,
    pub error: String,
}

#[derive(Debug)]
pub struct Replay<T> {
    pub records: Vec<T>,
    pub skipped: Vec<SkippedLine>,
}

impl Journal {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }

    pub fn replay<T: DeserializeOwned>(path: &Path) -> io::Result<Replay<T>> {
        let mut replay = Replay {
            records: Vec::new(),
            skipped: Vec::new(),
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(replay),
            Err(e) => return Err(e),
        };
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line?;
            match serde_json::from_str(&line) {
                Ok(r) => replay.records.push(r),
                Err(e) => replay.skipped.push(SkippedLine {
                    line: i + 1,
                    error: e.to_string(),
                }),
            }
        }
        Ok(replay)
    }
}
