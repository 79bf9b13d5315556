//! A state document as terraform's `state pull` and `state push` treat it: its bytes, its
//! lineage and serial, and whether it holds anything. (What is in it, keys and devices, is
//! `util/tfstate.rs`'s business.)
use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

/// A state document, parsed only as far as its header and counts.
#[derive(Debug, Clone)]
pub struct StateDoc {
    pub bytes: Vec<u8>,
    /// Empty when terraform has never written the workspace.
    pub lineage: String,
    pub serial: u64,
    resources: usize,
    outputs: usize,
}

#[derive(Deserialize)]
struct Header {
    /// Required: what makes a JSON object a state.
    #[allow(dead_code)]
    version: u64,
    #[serde(default)]
    lineage: String,
    #[serde(default)]
    serial: u64,
    #[serde(default)]
    resources: Vec<IgnoredAny>,
    #[serde(default)]
    outputs: BTreeMap<String, IgnoredAny>,
}

impl StateDoc {
    /// Reads the header of a state document (a JSON object with a `version`).
    pub fn parse(bytes: Vec<u8>) -> Result<StateDoc, serde_json::Error> {
        let header: Header = serde_json::from_slice(&bytes)?;
        Ok(StateDoc {
            lineage: header.lineage,
            serial: header.serial,
            resources: header.resources.len(),
            outputs: header.outputs.len(),
            bytes,
        })
    }

    /// Whether terraform has ever written this workspace: `state pull` of one it never wrote
    /// prints a document with lineage "" (serial 0), which is "no state".
    pub fn exists(&self) -> bool {
        !self.lineage.is_empty()
    }

    /// Whether there is anything to back up or restore: terraform wrote the workspace and it
    /// holds something (`state pull` creates a workspace it has never seen, empty).
    pub fn holds_anything(&self) -> bool {
        self.exists() && !self.is_empty()
    }

    /// No resources and no outputs: nothing to lose, and terraform's `state push` replaces
    /// such a state whatever its lineage (`statemgr.CheckValidImport` in terraform's
    /// `internal/states/statemgr/migrate.go`).
    pub fn is_empty(&self) -> bool {
        self.resources == 0 && self.outputs == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_terraform_never_wrote_is_no_state() -> anyhow::Result<()> {
        // `terraform state pull` of such a workspace, terraform 1.11.4 with the pg backend.
        let never = br#"{"version":4,"terraform_version":"1.11.4","serial":0,"lineage":"","outputs":{},"resources":[],"check_results":null}"#;
        let doc = StateDoc::parse(never.to_vec())?;
        assert!(!doc.exists() && doc.is_empty(), "{doc:?}");
        let created = br#"{"version":4,"serial":1,"lineage":"0dac","outputs":{},"resources":[]}"#;
        let doc = StateDoc::parse(created.to_vec())?;
        assert!(doc.exists() && doc.is_empty(), "created, empty: {doc:?}");
        assert!(!doc.holds_anything(), "nothing to back up");
        assert_eq!((doc.lineage.as_str(), doc.serial), ("0dac", 1));
        let outputs =
            br#"{"version":4,"serial":2,"lineage":"a","outputs":{"x":{"value":1}},"resources":[]}"#;
        assert!(
            !StateDoc::parse(outputs.to_vec())?.is_empty(),
            "an output counts"
        );
        let resources = br#"{"version":4,"serial":2,"lineage":"a","resources":[{"mode":"data"}]}"#;
        assert!(
            !StateDoc::parse(resources.to_vec())?.is_empty(),
            "so does any resource"
        );
        assert!(
            StateDoc::parse(b"{\"serial\": 1}".to_vec()).is_err(),
            "no version"
        );
        assert!(StateDoc::parse(b"Error: x".to_vec()).is_err(), "not JSON");
        Ok(())
    }
}
