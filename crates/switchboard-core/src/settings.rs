//! The workspace-wide settings of "CRM integration → Additional".

use serde::{Deserialize, Serialize};

/// The workspace settings, as `GET /api/v1/settings` returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// Setting 1: mirror every message to the timeline of the chat's lead, contact and deal.
    pub save_to_crm_timeline: bool,
    /// Setting 2: CRM numbers of 11 digits typed with a leading 8 are read as +7.
    pub eight_as_plus7: bool,
    /// Setting 3: supervisors see every unanswered chat red and are notified of every message.
    pub notify_supervisors_all: bool,
    /// Beyond the seed: a chat unanswered this many minutes turns red for supervisors (and
    /// notifies them once) even with setting 3 off. `None`: off.
    #[serde(default)]
    pub escalate_after_minutes: Option<u32>,
    /// Beyond the seed: the responsible seller may hand their chat to a colleague (supervisors
    /// always may).
    #[serde(default)]
    pub sellers_may_transfer: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            save_to_crm_timeline: true,
            eight_as_plus7: true,
            notify_supervisors_all: false,
            escalate_after_minutes: None,
            sellers_may_transfer: false,
        }
    }
}
