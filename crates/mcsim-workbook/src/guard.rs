//! Checks made before any part of the file is parsed: the file format (magic bytes and
//! extension) and the zip archive's central directory (entry count, declared sizes,
//! compression ratios, entry names).
//!
//! Reading stays bounded after these checks: the `zip` crate reads every entry through a
//! reader that fails as soon as it yields more than the entry's declared uncompressed size,
//! so the sum checked here bounds what calamine and this crate can decompress.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::Path;

use zip::ZipArchive;

use crate::error::{LoadError, ZipLimit};
use crate::options::{LoadOptions, RATIO_CHECK_MIN_BYTES};

/// The first bytes of an OLE2 compound file (`.xls`, and encrypted `.xlsx`).
const OLE_MAGIC: [u8; 4] = [0xD0, 0xCF, 0x11, 0xE0];

/// A zip archive that passed the checks, with a case-insensitive index of its entries.
pub(crate) struct Package<'a> {
    /// The file's display name, for messages.
    pub(crate) file: &'a str,
    zip: ZipArchive<Cursor<&'a [u8]>>,
    /// Lower-cased entry name with `\` turned into `/` (as calamine looks names up) → index.
    index: HashMap<String, usize>,
}

/// Sniffs the format and checks the archive. Returns the opened archive.
pub(crate) fn open<'a>(
    bytes: &'a [u8],
    file: &'a str,
    options: &LoadOptions,
) -> Result<Package<'a>, LoadError> {
    let extension = Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();

    if bytes.starts_with(&OLE_MAGIC) {
        if is_encrypted_ooxml(bytes) {
            return Err(LoadError::Encrypted {
                path: file.to_owned(),
            });
        }
        let what = if extension == "xls" {
            "an Excel 97-2003 workbook (.xls)"
        } else {
            "an OLE2 compound document (an Excel 97-2003 .xls workbook or another legacy Office file)"
        };
        return Err(unsupported(file, what));
    }

    let zip = match ZipArchive::new(Cursor::new(bytes)) {
        Ok(zip) => zip,
        Err(e) => {
            if bytes.starts_with(b"PK") {
                return Err(LoadError::corrupt_with(
                    file,
                    "the zip archive is damaged or truncated",
                    e,
                ));
            }
            return Err(match extension.as_str() {
                "xls" => unsupported(
                    file,
                    "an .xls file that is not an Excel 97-2003 workbook either (perhaps HTML or XML saved as .xls)",
                ),
                "csv" => unsupported(file, "a CSV text file (.csv)"),
                "ods" => unsupported(file, "an OpenDocument spreadsheet (.ods)"),
                "xlsb" => unsupported(file, "an Excel binary workbook (.xlsb)"),
                _ => LoadError::NotAZip {
                    path: file.to_owned(),
                },
            });
        }
    };

    let mut package = Package {
        file,
        zip,
        index: HashMap::new(),
    };
    package.check_entries(options)?;
    package.check_content_kind()?;
    Ok(package)
}

fn unsupported(file: &str, what: &str) -> LoadError {
    LoadError::Unsupported {
        path: file.to_owned(),
        what: what.to_owned(),
    }
}

/// An encrypted OOXML file is an OLE2 compound file with an `EncryptedPackage` stream; the
/// stream name is stored in UTF-16LE in the directory.
fn is_encrypted_ooxml(bytes: &[u8]) -> bool {
    let needle: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    memchr::memmem::find(bytes, &needle).is_some()
}

/// Why an entry name is unsafe, if it is. Backslashes count as separators (some writers
/// use them, and calamine accepts them), so `..\x` is caught like `../x`.
fn unsafe_name(name: &[u8]) -> Option<&'static str> {
    if name.contains(&0) {
        return Some("NUL byte");
    }
    if matches!(name.first(), Some(b'/' | b'\\')) {
        return Some("absolute path");
    }
    if name.len() >= 2 && name[0].is_ascii_alphabetic() && name[1] == b':' {
        return Some("absolute path with a drive letter");
    }
    if name.split(|&b| b == b'/' || b == b'\\').any(|c| c == b"..") {
        return Some("parent-directory component '..'");
    }
    None
}

impl<'a> Package<'a> {
    fn check_entries(&mut self, options: &LoadOptions) -> Result<(), LoadError> {
        let count = self.zip.len();
        if count > options.max_entries {
            return Err(LoadError::ZipBomb {
                path: self.file.to_owned(),
                limit: ZipLimit::Entries {
                    count,
                    limit: options.max_entries,
                },
            });
        }
        let mut total: u64 = 0;
        for i in 0..count {
            let entry = self.zip.by_index_data(i).map_err(|e| {
                LoadError::corrupt_with(self.file, "cannot read the zip directory", e)
            })?;
            let raw = entry.name_raw();
            if let Some(reason) = unsafe_name(raw) {
                return Err(LoadError::UnsafeEntry {
                    path: self.file.to_owned(),
                    entry: String::from_utf8_lossy(raw).into_owned(),
                    reason,
                });
            }
            if entry.encrypted() {
                return Err(LoadError::Encrypted {
                    path: self.file.to_owned(),
                });
            }
            let size = entry.size();
            let compressed = entry.compressed_size();
            total = total.saturating_add(size);
            if total > options.max_decompressed_bytes {
                return Err(LoadError::ZipBomb {
                    path: self.file.to_owned(),
                    limit: ZipLimit::DecompressedBytes {
                        limit: options.max_decompressed_bytes,
                    },
                });
            }
            if size > RATIO_CHECK_MIN_BYTES
                && u128::from(size) > u128::from(compressed) * u128::from(options.max_entry_ratio)
            {
                return Err(LoadError::ZipBomb {
                    path: self.file.to_owned(),
                    limit: ZipLimit::EntryRatio {
                        entry: String::from_utf8_lossy(raw).into_owned(),
                        ratio: size / compressed.max(1),
                        limit: options.max_entry_ratio,
                    },
                });
            }
            let name = entry
                .name()
                .map_err(|e| LoadError::corrupt_with(self.file, "bad zip entry name", e))?;
            let key = name.replace('\\', "/").to_ascii_lowercase();
            self.index.insert(key, i);
        }
        Ok(())
    }

    /// Recognises the other zip-based formats, which have no workbook part.
    fn check_content_kind(&mut self) -> Result<(), LoadError> {
        if self.has("xl/workbook.bin") && !self.has("xl/workbook.xml") {
            return Err(unsupported(self.file, "an Excel binary workbook (.xlsb)"));
        }
        if self.has("mimetype") && self.has("content.xml") {
            let mimetype = self.read("mimetype")?.unwrap_or_default();
            let what = if memchr::memmem::find(&mimetype, b"spreadsheet").is_some() {
                "an OpenDocument spreadsheet (.ods)"
            } else {
                "an OpenDocument file"
            };
            return Err(unsupported(self.file, what));
        }
        if self.has("word/document.xml") {
            return Err(unsupported(self.file, "a Word document (.docx)"));
        }
        if self.has("ppt/presentation.xml") {
            return Err(unsupported(self.file, "a PowerPoint presentation (.pptx)"));
        }
        Ok(())
    }

    /// Whether the archive holds `path` (case-insensitive, as calamine looks parts up).
    pub(crate) fn has(&self, path: &str) -> bool {
        self.index.contains_key(&path.to_ascii_lowercase())
    }

    /// Opens the part `path` for streaming, or `None` when the archive lacks it.
    pub(crate) fn open(&mut self, path: &str) -> Result<Option<impl Read + '_>, LoadError> {
        let Some(&i) = self.index.get(&path.to_ascii_lowercase()) else {
            return Ok(None);
        };
        let file = self.file;
        let entry = self.zip.by_index(i).map_err(|e| {
            LoadError::corrupt_with(file, format!("cannot read the part '{path}'"), e)
        })?;
        Ok(Some(entry))
    }

    /// Reads the whole part `path`, or `None` when the archive lacks it. The zip reader
    /// refuses to produce more than the entry's declared (and already checked) size.
    pub(crate) fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, LoadError> {
        let file = self.file;
        let Some(mut entry) = self.open(path)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| {
            LoadError::corrupt_with(file, format!("cannot decompress the part '{path}'"), e)
        })?;
        Ok(Some(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        assert_eq!(unsafe_name(b"xl/workbook.xml"), None);
        assert_eq!(unsafe_name(b"xl\\worksheets\\sheet1.xml"), None);
        assert_eq!(unsafe_name(b"xl/..foo/x"), None);
        assert!(unsafe_name(b"../evil").is_some());
        assert!(unsafe_name(b"xl/../../evil").is_some());
        assert!(unsafe_name(b"xl\\..\\..\\evil").is_some());
        assert!(unsafe_name(b"/etc/passwd").is_some());
        assert!(unsafe_name(b"\\evil").is_some());
        assert!(unsafe_name(b"C:/evil").is_some());
        assert!(unsafe_name(b"a\0b").is_some());
    }

    #[test]
    fn encrypted_marker_is_utf16() {
        let mut bytes = OLE_MAGIC.to_vec();
        bytes.extend(b"EncryptedPackage");
        assert!(!is_encrypted_ooxml(&bytes));
        bytes.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert!(is_encrypted_ooxml(&bytes));
    }
}
