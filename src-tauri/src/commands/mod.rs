//! Every command the webview may call, named once (in [`commands!`] below): the Tauri handler
//! and the webview's typed `commands` object (`ui/src/lib/commands.ts`, generated) both come
//! from that list. Each command is `async fn(&AppHandle, args…) -> CmdResult<T>` in the
//! module of its area; the compiler checks the list against those signatures (their types;
//! arguments of one type are passed in the order listed, so keep the list in the function's).
//!
//! Adding a command: write the function in its area's module; add its line to `commands!`;
//! derive `TS` (under `cfg_attr(test)`) for a new argument or answer type and add it to
//! `vm::declarations()` (the bindings test names any type it is missing); if it calls the hub,
//! add the operation to `switchboard-client`; `make bindings`; give `MockBackend` the method
//! (TypeScript insists: it `implements Backend`).

mod chats;
mod crm;
pub(crate) mod desktop;
pub use desktop::show_unless_hidden;
mod files;
mod replies;
mod session;
mod staff;
mod writing;

/// Declares the commands: generates their `#[tauri::command]` wrappers, [`handler`], and (in
/// tests) their TypeScript.
macro_rules! commands {
    ($($(#[doc = $doc:literal])* $module:ident :: $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty;)*
     @bytes { $($(#[doc = $rdoc:literal])* $rmodule:ident :: $rname:ident ( $($rarg:ident),* ) -> $rret:ty;)* }) => {
        /// The `#[tauri::command]` wrappers: each hands the app to its area's function.
        mod wrappers {
            #[allow(unused_imports, reason = "each wrapper uses some")]
            use crate::vm::*;
            $(
                #[tauri::command]
                pub async fn $name(
                    app: tauri::AppHandle,
                    $($arg: $ty),*
                ) -> crate::error::CmdResult<$ret> {
                    super::$module::$name(&app, $($arg),*).await
                }
            )*
            // Commands whose body is bytes (a file), not JSON: their string arguments come as
            // percent-encoded headers.
            $(
                #[tauri::command]
                pub async fn $rname(
                    app: tauri::AppHandle,
                    request: tauri::ipc::Request<'_>,
                ) -> crate::error::CmdResult<$rret> {
                    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
                        return Err(crate::error::CmdError::new("bad_request", "bytes were expected"));
                    };
                    $(
                        let $rarg = super::header(&request, stringify!($rarg))?;
                    )*
                    super::$rmodule::$rname(&app, $($rarg,)* bytes).await
                }
            )*
        }

        /// The invoke handler of every command.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(wrappers::$name,)* $(wrappers::$rname),*]
        }

        /// The commands whose body is bytes: `(name, doc, [argument], TS answer)`.
        #[cfg(test)]
        pub fn raw_signatures() -> Vec<Signature> {
            use ts_rs::TS;
            #[allow(unused_imports, reason = "some signatures use them")]
            use crate::vm::*;
            vec![$(
                Signature {
                    name: stringify!($rname),
                    doc: concat!($($rdoc, "\n"),*),
                    args: vec![$((stringify!($rarg), "string".to_owned())),*],
                    answer: <$rret as TS>::name(),
                }
            ),*]
        }

        /// `(name, doc, [(argument, TS type)], TS answer)` of every command, in order.
        #[cfg(test)]
        pub fn signatures() -> Vec<Signature> {
            use ts_rs::TS;
            #[allow(unused_imports, reason = "some signatures use them")]
            use crate::vm::*;
            vec![$(
                Signature {
                    name: stringify!($name),
                    doc: concat!($($doc, "\n"),*),
                    args: vec![$((stringify!($arg), <$ty as TS>::name())),*],
                    answer: <$ret as TS>::name(),
                }
            ),*]
        }
    };
}

commands! {
    session::app_state() -> AppState;
    session::open_demo() -> Vec<DemoEmployee>;
    session::sign_in_demo(employee_id: String) -> ();
    session::connect_hub(url: String, token: String) -> ();
    session::sign_out() -> ();
    /// One window of the chat list (waiting chats first, then newest activity) and the totals.
    chats::chat_list(filter: ChatFilter, offset: u32, limit: u32) -> ChatListVm;
    /// One chat's row, wherever it is in the list (the open conversation's header).
    chats::chat_row(id: String) -> Option<ChatRowVm>;
    chats::chat_messages(chat: String) -> Vec<MessageVm>;
    /// Fetches a chat's history before the message `before` (scrolling up): how many came
    /// (0 at its beginning). The messages arrive with `store-changed`.
    chats::older_messages(chat: String, before: String) -> u32;
    /// Opens a message's file (a document) with the system's app for its type, fetching it
    /// through the hub first when this desktop has not kept it.
    chats::open_media(id: String) -> ();
    chats::mark_answered(chat: String) -> ();
    /// Answered too early: a reply is owed again (the badge, notifications and escalation).
    chats::mark_unanswered(chat: String) -> ();
    chats::send_reply(chat: String, text: String) -> ();
    /// Whether this employee may hand the chat to a colleague (supervisors; the responsible
    /// seller when the workspace allows), as this desktop's copy reads it.
    chats::may_hand_over(chat: String) -> bool;
    /// Whom the chat may be handed to (from the hub).
    chats::hand_over_candidates(chat: String) -> Vec<HandOverVm>;
    /// Hands the chat to `to`: the CRM's responsible changes with it (Bitrix24 in the portal
    /// first), a line in the chat says so, `to` is notified.
    chats::hand_over(chat: String, to: String) -> ();
    /// The next (`forward`) or previous chat waiting for my answer (red) after `current`, in
    /// the list's order, round from the end (Alt+↓ / Alt+↑).
    chats::next_waiting(current: Option<String>, forward: bool) -> Option<String>;
    /// Messages this desktop holds matching every word typed (3 letters or more each), newest
    /// first, with what matched marked; offline too.
    chats::search_messages(query: String, filter: SearchFilterVm) -> SearchVm;
    /// The channels this desktop holds, for the search's channel filter (offline too).
    chats::search_channels() -> Vec<ChannelVm>;
    /// The hub's search over all history, as filtered (and older than message `before`: the
    /// oldest hit this desktop showed when it showed a full page): what it found that this
    /// desktop does not hold, newest first (`remote`); waits 3 s at most.
    chats::search_history(query: String, filter: SearchFilterVm, before: Option<String>) -> Vec<SearchHitVm>;
    /// Fetches a chat's history back to `message` (a hit of the hub's search), at most 20
    /// pages of 500: whether the desktop holds it now.
    chats::history_to(chat: String, message: String) -> bool;
    /// Ctrl+K: the chats whose client's name (fuzzy, any case), number (typed in any form) or
    /// messenger address matches `query`, best first, at most 20; offline too.
    chats::jump(query: String) -> Vec<ChatRowVm>;
    /// Ctrl+K by the title of a lead, contact or deal: the CRM's entities matching `query`
    /// that this employee may see (from the hub, 1.5 s at most) and the chats they belong to.
    chats::jump_crm(query: String) -> Vec<CrmJumpVm>;
    /// Keeps what is being written in a chat (blank forgets it); shown in the list as a draft.
    chats::set_draft(chat: String, text: String) -> ();
    /// Tells Rust which chat the window shows (no notification for it while focused).
    chats::set_open_chat(chat: Option<String>) -> ();
    chats::pending_first() -> Vec<PendingFirstVm>;
    /// The quick replies this desktop holds whose title or text holds every word of `query`
    /// (all for an empty one), titles first; offline too.
    replies::quick_replies(query: String) -> QuickRepliesVm;
    /// Quick reply `id` written for `chat` with what is known of it (the CRM's deal is asked
    /// for at most 1.5 s); what is not known is left as a hole to fill before Send.
    replies::fill_quick_reply(chat: String, id: String) -> FilledVm;
    /// The variables left in what is being written (Send waits on each).
    replies::text_holes(text: String) -> Vec<switchboard_core::replies::Hole>;
    /// A new quick reply (`id` null) or a change to one: the employee's own (`personal`) or
    /// the workspace's (supervisors). A word in braces that is no variable is refused.
    replies::save_quick_reply(id: Option<String>, title: String, text: String, personal: bool) -> ();
    replies::delete_quick_reply(id: String) -> ();
    /// Names the company `{company}` reads as (supervisors; blank: not named).
    replies::set_company_name(name: String) -> ();
    chats::retry_message(id: String, local: bool) -> ();
    chats::discard_message(id: String) -> ();
    staff::update_setting(change: SettingChange) -> ();
    /// This computer's preferences (start with the session, start hidden, the key that sends)
    /// and whether a panel shows the tray icon.
    desktop::desktop_prefs() -> DesktopPrefsVm;
    desktop::set_desktop_prefs(autostart: bool, start_hidden: bool, send_with_ctrl_enter: bool) -> DesktopPrefsVm;
    /// Do not disturb on or off (the tray's menu follows).
    desktop::set_do_not_disturb(on: bool) -> DesktopPrefsVm;
    /// Writing first: the number read under setting 2 and the preselected channel.
    writing::compose(phone: String) -> ComposeVm;
    writing::crm_search(query: String) -> Vec<CrmCardVm>;
    writing::send_first(channel_id: String, phone: String, display: String, text: String) -> SendResultVm;
    staff::employees() -> EmployeesVm;
    staff::update_employee(id: String, change: EmployeeChange) -> ();
    /// Deactivates an employee (their desktops are signed out at once) or reactivates one.
    staff::set_employee_active(id: String, active: bool) -> ();
    /// An employee's sign-ins: the desktops holding one of their tokens.
    staff::employee_tokens(id: String) -> Vec<TokenVm>;
    /// Ends one sign-in: that desktop is signed out at once.
    staff::revoke_token(id: String) -> ();
    /// The CRM entities a chat belongs to (fresh from the hub).
    crm::chat_crm(chat: String) -> Vec<CrmPanelVm>;
    crm::retry_mirror(id: String) -> ();
    crm::crm_connection() -> CrmConnectionVm;
    crm::check_crm(webhook_url: String) -> CrmConnectionVm;
    crm::connect_crm(webhook_url: String) -> CrmConnectionVm;
    crm::disconnect_crm() -> CrmConnectionVm;
    /// Stores the application token of the portal's outgoing webhook ('' stops taking events).
    crm::set_crm_events(application_token: String) -> CrmConnectionVm;
    /// Opens an entity's card in the CRM (the address comes from the hub, not the page).
    crm::open_in_crm(kind: switchboard_core::EntityKind, id: String) -> ();
    /// Whether a file of this size and type (as the page knows it) can go to the chat's
    /// channel, before its bytes are read: the reason when not.
    files::check_file(chat: String, mime: String, size: f64) -> Option<FileRefusalVm>;
    @bytes {
        /// Keeps a file to send to a chat (its bytes are the body) in the outbox: checked
        /// against the chat's channel by the type read from its bytes; sent when the hub can
        /// be reached, with its progress told by `upload-progress`.
        files::attach_file(chat, name) -> Option<FileRefusalVm>;
    }
}

/// A raw command's string argument: its percent-encoded header.
fn header(request: &tauri::ipc::Request<'_>, name: &str) -> crate::error::CmdResult<String> {
    let raw = request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| crate::error::CmdError::new("bad_request", format!("{name} is missing")))?;
    Ok(percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned())
}

/// One command as the webview sees it.
#[cfg(test)]
pub struct Signature {
    pub name: &'static str,
    pub doc: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub answer: String,
}

/// `snake_case` → `camelCase`, as Tauri names command arguments on the JavaScript side.
#[cfg(test)]
fn camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `ui/src/lib/commands.ts`: a typed function per command, and the events' payloads.
#[cfg(test)]
pub fn typescript(type_names: &[String]) -> String {
    let mut body = String::new();
    for s in signatures() {
        for line in s.doc.lines() {
            body.push_str(&format!("  /**{line} */\n"));
        }
        let params: Vec<String> = s
            .args
            .iter()
            .map(|(a, t)| format!("{}: {t}", camel(a)))
            .collect();
        let keys: Vec<String> = s.args.iter().map(|(a, _)| camel(a)).collect();
        let answer = if s.answer == "null" {
            "void".to_owned()
        } else {
            s.answer.clone()
        };
        let call = if keys.is_empty() {
            format!("invoke('{}')", s.name)
        } else {
            format!("invoke('{}', {{ {} }})", s.name, keys.join(", "))
        };
        body.push_str(&format!(
            "  {}: ({}): Promise<{answer}> => {call},\n",
            camel(s.name),
            params.join(", ")
        ));
    }
    for s in raw_signatures() {
        for line in s.doc.lines() {
            body.push_str(&format!("  /**{line} */\n"));
        }
        let mut params: Vec<String> = s
            .args
            .iter()
            .map(|(a, t)| format!("{}: {t}", camel(a)))
            .collect();
        params.push("bytes: Uint8Array".into());
        let headers: Vec<String> = s
            .args
            .iter()
            .map(|(a, _)| format!("{a}: encodeURIComponent({})", camel(a)))
            .collect();
        let answer = if s.answer == "null" {
            "void".to_owned()
        } else {
            s.answer.clone()
        };
        body.push_str(&format!(
            "  {}: ({}): Promise<{answer}> =>\n    invoke('{}', bytes, {{ headers: {{ {} }} }}),\n",
            camel(s.name),
            params.join(", "),
            s.name,
            headers.join(", ")
        ));
    }
    let events = crate::ui_events::typescript();
    // Every type a signature names must be declared in bindings.ts.
    const BUILTIN: [&str; 5] = ["Promise", "Array", "Record", "UiEvents", "Uint8Array"];
    let signatures = body.lines().filter(|l| !l.trim_start().starts_with("/**"));
    for word in signatures.flat_map(|l| l.split(|c: char| !c.is_alphanumeric() && c != '_')) {
        let named = word.chars().next().is_some_and(char::is_uppercase);
        assert!(
            !named || BUILTIN.contains(&word) || type_names.iter().any(|n| n == word),
            "{word} is used by a command but not declared: add it to vm::declarations()"
        );
    }
    // Import the binding types these use (and only those: unused imports fail the checks).
    let used: Vec<&str> = type_names
        .iter()
        .map(String::as_str)
        .filter(|n| {
            let text = format!("{body}{events}");
            text.split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == *n)
        })
        .collect();
    format!(
        "// Generated from Rust (src-tauri/src/commands/mod.rs, ui_events.rs) by `make bindings`. Do not edit by hand.\n\
         import {{ invoke }} from '@tauri-apps/api/core';\n\
         import type {{ {} }} from './bindings';\n\n\
         /** Every command, typed: the one list is Rust's. */\n\
         export const commands = {{\n{body}}};\n\n\
         export type Commands = typeof commands;\n\n{events}",
        used.join(", ")
    )
}
