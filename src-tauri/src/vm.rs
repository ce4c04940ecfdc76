//! View models: what the webview renders, computed in Rust. Their TypeScript declarations
//! are generated into `ui/src/lib/bindings.ts` (see the `bindings_are_fresh` test).

use serde::{Deserialize, Serialize};
use switchboard_core::{
    Badge, BadgeColor, Counters, CrmRef, Direction, EntityKind, Role, Settings, Transport,
};
use ts_rs::TS;

/// What the window shows first: the welcome screen, or a signed-in session.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct AppState {
    /// `None`: not connected yet — offer the demo workspace or a hub URL.
    pub session: Option<SessionVm>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct SessionVm {
    pub hub_url: String,
    /// Signed in to the built-in demo workspace (hub in-process on loopback).
    pub demo: bool,
    /// The employee, once the first sync has told us who we are.
    pub me: Option<MeVm>,
    /// Live link to the hub up: events arrive and changes sync.
    pub online: bool,
    pub settings: Option<Settings>,
    /// Supervisors may change the workspace settings; sellers see them read-only.
    pub can_edit_settings: bool,
}

/// One change on the "CRM integration → Additional" screen.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "field", content = "value", rename_all = "snake_case")]
pub enum SettingChange {
    SaveToCrmTimeline(bool),
    EightAsPlus7(bool),
    NotifySupervisorsAll(bool),
    /// Minutes, or `null` for off.
    EscalateAfterMinutes(Option<u32>),
}

impl SettingChange {
    /// The body of `PUT /api/v1/settings` for this one change.
    pub fn to_patch(&self) -> serde_json::Value {
        match self {
            SettingChange::SaveToCrmTimeline(v) => serde_json::json!({ "save_to_crm_timeline": v }),
            SettingChange::EightAsPlus7(v) => serde_json::json!({ "eight_as_plus7": v }),
            SettingChange::NotifySupervisorsAll(v) => {
                serde_json::json!({ "notify_supervisors_all": v })
            }
            SettingChange::EscalateAfterMinutes(v) => {
                serde_json::json!({ "escalate_after_minutes": v })
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct MeVm {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// An employee offered on the demo sign-in screen.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct DemoEmployee {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub receives_new_clients: bool,
}

/// Which chats the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ChatFilter {
    /// Red badges: clients waiting for me.
    Mine,
    /// Grey badges: clients waiting for someone else.
    Others,
    All,
}

/// One row of the chat list.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ChatRowVm {
    pub id: String,
    pub title: String,
    pub channel_name: String,
    pub transport: Option<Transport>,
    pub last_text: String,
    pub last_from_client: bool,
    pub last_at: String,
    pub badge: Badge,
    pub crm: Vec<CrmRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ChatListVm {
    pub chats: Vec<ChatRowVm>,
    /// The totals of every visible chat (not just the filtered ones).
    pub counters: Counters,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct MessageVm {
    pub id: String,
    pub direction: Direction,
    pub text: String,
    pub at: String,
    pub status: String,
}

/// The TypeScript of every type above (and the core types they use), as committed.
pub fn typescript() -> String {
    let decls = [
        AppState::decl(),
        SessionVm::decl(),
        SettingChange::decl(),
        MeVm::decl(),
        DemoEmployee::decl(),
        ChatFilter::decl(),
        ChatRowVm::decl(),
        ChatListVm::decl(),
        MessageVm::decl(),
        Settings::decl(),
        Role::decl(),
        Transport::decl(),
        Badge::decl(),
        BadgeColor::decl(),
        Counters::decl(),
        CrmRef::decl(),
        EntityKind::decl(),
        Direction::decl(),
        crate::CmdError::decl(),
    ];
    let mut out = String::from(
        "// Generated from Rust (src-tauri/src/vm.rs) by `make bindings`. Do not edit by hand.\n",
    );
    for d in decls {
        out.push_str("\nexport ");
        out.push_str(&d);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    /// The committed bindings match the Rust types. `UPDATE_BINDINGS=1` rewrites them.
    #[test]
    fn bindings_are_fresh() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
        let generated = super::typescript();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).expect("write bindings");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/lib/bindings.ts is stale: run `make bindings` and commit the result"
        );
    }
}
