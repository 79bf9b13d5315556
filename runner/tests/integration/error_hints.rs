//! terraform errors the tailnet's resources meet reach last-apply.json, stderr and
//! `status --oneline` as one line each, terraform's words followed by the fix.
use anyhow::Result;

use crate::common::*;

const OVERWRITE_DETAIL: &str = "You are trying to overwrite a non-default policy. Please import the ACL first or set overwrite_existing_content = true.";
const FORBIDDEN: &str =
    "calling actor does not have enough permissions to perform this function (403)";

/// A failed apply whose terraform printed these diagnostics and changed nothing.
fn failed_with(sb: &Sandbox, diagnostics: &[(&str, &str, &str)]) -> Result<Output> {
    sb.seed_state(&state_json(3, &[("a", "kA")]))?;
    let lines: String = diagnostics
        .iter()
        .map(|(address, summary, detail)| diagnostic_line(address, summary, detail))
        .collect();
    let lines = sb.file("apply.jsonl", &lines)?;
    sb.runner(
        &["apply"],
        &[("TF_FAKE_STDOUT", &lines), ("TF_FAKE_EXIT", "1")],
    )?
    .expect(1, "the failed apply")
}

#[test]
fn overwrite_protection_is_one_line_with_the_fix() -> Result<()> {
    let sb = Sandbox::new()?;
    let out = failed_with(
        &sb,
        &[(
            "tailscale_acl.policy",
            "Overwrite Protected",
            OVERWRITE_DETAIL,
        )],
    )?;
    let expected = "tailscale_acl.policy: Overwrite Protected: You are trying to overwrite a \
        non-default policy. Please import the ACL first or set overwrite_existing_content = true; \
        the tailnet's policy is not Tailscale's default: compare the live policy (admin console → \
        Access controls) with the declared one (tailscale_acl.policy in main.tf.json), keep what \
        you need in your configuration, then set \
        services.tailscale-manager.acl.overwriteExisting = true";
    assert_eq!(
        sb.last_apply()?["error_message"],
        expected,
        "last-apply.json: terraform's words, then the fix, on one line"
    );
    out.assert_stderr(&format!("\n{expected}\n"));
    // (Its exit code is the status command's business, not this test's.)
    let oneline = sb.runner(&["status", "--oneline"], &[])?;
    assert_eq!(
        oneline.stdout,
        format!("tailscale-manager: last apply [error] {expected}\n"),
        "the activation line carries the fix"
    );
    Ok(())
}

#[test]
fn a_missing_scope_is_named_per_failing_resource() -> Result<()> {
    let sb = Sandbox::new()?;
    failed_with(
        &sb,
        &[
            (
                "tailscale_tailnet_key.ci",
                "Failed to create key",
                &format!("Error creating tailnet key: {FORBIDDEN}"),
            ),
            (
                "data.tailscale_devices.all",
                "Failed to fetch devices",
                FORBIDDEN,
            ),
        ],
    )?;
    let grant = "add it to the OAuth client (admin console → Settings → OAuth clients)";
    assert_eq!(
        sb.last_apply()?["error_message"],
        format!(
            "tailscale_tailnet_key.ci: Failed to create key: Error creating tailnet key: \
             {FORBIDDEN}; tailscale_tailnet_key.ci needs the OAuth scope 'auth_keys': {grant}\n\n\
             data.tailscale_devices.all: Failed to fetch devices: {FORBIDDEN}; \
             data.tailscale_devices.all needs the OAuth scope 'devices:core:read': {grant}"
        ),
        "each error names the scope its resource needs"
    );
    Ok(())
}
