//! The `hashicorp/local` stand-in's `local_sensitive_file` under plain terraform, checked against
//! what terraform-provider-local v2.9.0 resource_local_sensitive_file.go does: modes, checksums,
//! a file deleted or edited behind terraform's back, destroy, and
//! hashicorp/terraform-provider-local#146 (create_before_destroy with the same filename).

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};

use test_support::files::mode;

use crate::common::{World, example_key};
use crate::plain::{APPLY, DESTROY, PLAN, attributes, ensure_says, set_config, tf_project};

fn files(resources: Value) -> Value {
    json!({ "resource": { "local_sensitive_file": resources } })
}

/// SHA-1 in hex, from the `sha1sum` every test machine has, so the check does not reuse the
/// stand-in's own code.
fn sha1_hex(path: &Path) -> Result<String> {
    let output = std::process::Command::new("sha1sum").arg(path).output()?;
    ensure!(output.status.success(), "sha1sum {}", path.display());
    let text = String::from_utf8(output.stdout)?;
    Ok(text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned())
}

#[test]
fn writes_the_key_with_default_modes_and_checksums() -> Result<()> {
    let world = World::new()?;
    let keys = world.path("out/keys");
    let key_file = keys.join("ci");
    let other_dir = world.path("out/other");
    let other = other_dir.join("plain");
    let body = json!({ "resource": {
        "tailscale_tailnet_key": { "ci": example_key()? },
        "local_sensitive_file": {
            "ci": {
                "content": "${tailscale_tailnet_key.ci.key}",
                "filename": key_file.to_str().context("UTF-8 path")?,
            },
            "other": {
                "content_base64": "aGVsbG8K",
                "filename": other.to_str().context("UTF-8 path")?,
                "file_permission": "0640",
                "directory_permission": "0750",
            },
        },
    } });
    let dir = tf_project(&world, "files", body)?;
    world.terraform(&dir, APPLY, &[])?.expect(0, "apply")?;

    let key = world.tailnet()?.keys[0].key.clone();
    ensure!(
        fs::read_to_string(&key_file)? == key,
        "the file holds exactly the key the tailnet created"
    );
    // The tests run with umask 022, which leaves these modes as they are.
    let modes = [
        (&key_file, 0o700, "file_permission defaults to 0700"),
        (&keys, 0o700, "directory_permission defaults to 0700"),
        (&other, 0o640, "file_permission as configured"),
        (&other_dir, 0o750, "directory_permission as configured"),
    ];
    for (path, expected, what) in modes {
        let got = mode(path);
        ensure!(
            got == expected,
            "{what}: {} has mode {got:o}",
            path.display()
        );
    }
    ensure!(fs::read(&other)? == b"hello\n", "content_base64 is decoded");

    let state = attributes(&world, &dir, "local_sensitive_file.ci")?;
    ensure!(
        state["id"] == sha1_hex(&key_file)?.as_str() && state["content_sha1"] == state["id"],
        "id is the SHA-1 of the content: {}",
        state["id"]
    );
    ensure!(
        state["file_permission"] == "0700" && state["directory_permission"] == "0700",
        "the defaults are saved: {state}"
    );
    for checksum in [
        "content_md5",
        "content_sha256",
        "content_base64sha256",
        "content_sha512",
        "content_base64sha512",
    ] {
        ensure!(
            state[checksum].as_str().is_some_and(|c| !c.is_empty()),
            "{checksum} is set: {state}"
        );
    }
    let raw = fs::read_to_string(dir.join("terraform.tfstate"))?;
    ensure!(
        raw.contains("\"value\": \"content\""),
        "content is a sensitive attribute in the state"
    );
    world
        .terraform(&dir, PLAN, &[])?
        .expect(0, "a second plan changes nothing")?;
    Ok(())
}

#[test]
fn a_file_deleted_or_edited_behind_terraforms_back_is_written_again() -> Result<()> {
    let world = World::new()?;
    let file = world.path("out/secret");
    // An existing file keeps its mode: the permission applies only when the file is created.
    fs::create_dir_all(world.path("out"))?;
    fs::write(&file, "old")?;
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644))?;
    let name = file.to_str().context("UTF-8 path")?;
    let dir = tf_project(
        &world,
        "files",
        files(json!({ "secret": { "content": "s3cret", "filename": name } })),
    )?;
    world.terraform(&dir, APPLY, &[])?.expect(0, "apply")?;
    ensure!(
        fs::read_to_string(&file)? == "s3cret",
        "the content is written"
    );
    ensure!(
        mode(&file) == 0o644,
        "over an existing file, its mode stays: {:o}",
        mode(&file)
    );

    fs::set_permissions(&file, fs::Permissions::from_mode(0o600))?;
    world
        .terraform(&dir, PLAN, &[])?
        .expect(0, "a changed mode goes unnoticed")?;

    fs::remove_file(&file)?;
    let plan = world
        .terraform(&dir, PLAN, &[])?
        .expect(2, "plan after the file was deleted")?;
    ensure_says(&plan, "local_sensitive_file.secret will be created")?;
    world
        .terraform(&dir, APPLY, &[])?
        .expect(0, "apply after the delete")?;
    ensure!(fs::read_to_string(&file)? == "s3cret", "the file is back");

    fs::write(&file, "edited")?;
    let plan = world
        .terraform(&dir, PLAN, &[])?
        .expect(2, "plan after the file was edited")?;
    ensure_says(&plan, "local_sensitive_file.secret will be created")?;
    world
        .terraform(&dir, APPLY, &[])?
        .expect(0, "apply after the edit")?;
    ensure!(
        fs::read_to_string(&file)? == "s3cret",
        "the content is restored"
    );

    world.terraform(&dir, DESTROY, &[])?.expect(0, "destroy")?;
    ensure!(!file.exists(), "destroy removes the file");
    ensure!(world.path("out").is_dir(), "but not its directory");
    // Delete ignores errors: without a refresh (which would drop the resource), destroying a
    // file that is already gone succeeds.
    world
        .terraform(&dir, APPLY, &[])?
        .expect(0, "apply after destroy")?;
    fs::remove_file(&file)?;
    world
        .terraform(
            &dir,
            &["destroy", "-auto-approve", "-input=false", "-refresh=false"],
            &[],
        )?
        .expect(0, "destroy of a file that is already gone")?;
    Ok(())
}

#[test]
fn create_before_destroy_with_the_same_filename_loses_the_file() -> Result<()> {
    // hashicorp/terraform-provider-local#146: the new instance writes the file, then the old
    // instance's Delete removes it; only the next apply writes it again.
    let world = World::new()?;
    let file = world.path("out/key");
    let resource = json!({
        "content": "first",
        "filename": file.to_str().context("UTF-8 path")?,
        "lifecycle": { "create_before_destroy": true },
    });
    let dir = tf_project(&world, "cbd", files(json!({ "key": resource })))?;
    world.terraform(&dir, APPLY, &[])?.expect(0, "apply")?;
    ensure!(fs::read_to_string(&file)? == "first", "the first content");

    set_config(
        &dir,
        "/resource/local_sensitive_file/key/content",
        json!("second"),
    )?;
    let replace = world
        .terraform(&dir, APPLY, &[])?
        .expect(0, "apply of the replacement")?;
    ensure_says(&replace, "+/- create replacement and then destroy")?;
    ensure!(
        !file.exists(),
        "the old instance's delete removed the new file"
    );
    let state = attributes(&world, &dir, "local_sensitive_file.key")?;
    let second = world.path("second");
    fs::write(&second, "second")?;
    ensure!(
        state["id"] == sha1_hex(&second)?.as_str(),
        "the state holds the new instance: {state}"
    );
    let plan = world
        .terraform(&dir, PLAN, &[])?
        .expect(2, "the next plan sees the file missing")?;
    ensure_says(&plan, "local_sensitive_file.key will be created")?;
    world.terraform(&dir, APPLY, &[])?.expect(0, "next apply")?;
    ensure!(
        fs::read_to_string(&file)? == "second",
        "the next apply writes the new content"
    );
    Ok(())
}

#[test]
fn invalid_file_configs_get_the_providers_messages() -> Result<()> {
    let world = World::new()?;
    let name = world.path("out/x");
    let name = name.to_str().context("UTF-8 path")?;
    let dir = tf_project(
        &world,
        "invalid",
        files(json!({
            "none": { "filename": name },
            "mode": { "filename": name, "content": "x", "file_permission": "0800" },
        })),
    )?;
    let plan = world
        .terraform(&dir, &["plan", "-input=false"], &[])?
        .expect(1, "plan of invalid files")?;
    for expected in [
        "Error: Invalid Attribute Combination",
        "No attribute specified when one (and only one) of [content,content_base64,source] is required",
        "No attribute specified when one (and only one) of [source,content,content_base64] is required",
        "Error: Invalid File Permission String Value",
        "bad mode permission: string must be expressed in octal numeric notation: 0800",
    ] {
        ensure_says(&plan, expected)?;
    }
    Ok(())
}
