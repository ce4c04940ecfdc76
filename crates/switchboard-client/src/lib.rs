//! The typed client of the hub's HTTP surface (`hub-api.md`): one method per operation, its
//! path from one table ([`ops`]) that a hub test checks against the hub's own description, its
//! bodies and answers the wire types the hub itself uses. The desktop calls the hub only
//! through it (the hub's own tests still build most requests by hand; moving them is next).

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;
use switchboard_core::{Counters, EntityKind, Settings};
use switchboard_wire::*;

pub use reqwest;

/// One documented operation: a method and a path template as the hub's OpenAPI names it
/// (`/api/v1/chats/{id}/messages`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
}

impl Op {
    /// The path with each `{…}` filled, in order, by a percent-encoded argument. An empty
    /// argument, `.` or `..` is refused (a URL would read the dots as a step up the path and
    /// the call would reach another route), as is a wrong number of them.
    pub fn fill(&self, args: &[&str]) -> ClientResult<String> {
        let mut out = String::with_capacity(self.path.len() + 16);
        let mut args = args.iter();
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            let arg = args.next().ok_or_else(|| {
                ClientError::BadArgument(format!("{} takes more arguments", self.path))
            })?;
            if matches!(*arg, "" | "." | "..") {
                return Err(ClientError::BadArgument(format!(
                    "{:?} cannot name {}",
                    arg,
                    &rest[open..close]
                )));
            }
            out.push_str(&encode_component(arg));
            rest = &rest[close..];
        }
        out.push_str(rest);
        if args.next().is_some() {
            return Err(ClientError::BadArgument(format!(
                "{} takes fewer arguments",
                self.path
            )));
        }
        Ok(out)
    }

    fn method(&self) -> reqwest::Method {
        reqwest::Method::from_bytes(self.method.as_bytes()).unwrap_or(reqwest::Method::GET)
    }
}

macro_rules! ops {
    ($($(#[doc = $doc:literal])* $name:ident = $method:literal $path:literal;)*) => {
        /// Every operation this client calls, named once.
        pub mod ops {
            use super::Op;
            $($(#[doc = $doc])* pub const $name: Op = Op { method: $method, path: $path };)*
            /// All of the above (a hub test checks each is documented there).
            pub const ALL: &[Op] = &[$($name),*];
        }
    };
}

ops! {
    ME = "GET" "/api/v1/me";
    REVOKE_OWN_TOKEN = "DELETE" "/api/v1/me/token";
    COUNTERS = "GET" "/api/v1/me/counters";
    SYNC = "GET" "/api/v1/sync";
    EVENTS = "GET" "/api/v1/events";
    CHATS = "GET" "/api/v1/chats";
    SEARCH = "GET" "/api/v1/search";
    CHAT_MESSAGES = "GET" "/api/v1/chats/{id}/messages";
    MESSAGE_MEDIA = "GET" "/api/v1/messages/{id}/media";
    SEND_FILE = "POST" "/api/v1/chats/{id}/files";
    MARK_ANSWERED = "POST" "/api/v1/chats/{id}/answered";
    MARK_UNANSWERED = "POST" "/api/v1/chats/{id}/unanswered";
    TRANSFER_CANDIDATES = "GET" "/api/v1/chats/{id}/transfer";
    TRANSFER = "POST" "/api/v1/chats/{id}/transfer";
    TRANSFERS = "GET" "/api/v1/transfers";
    COMPOSE = "GET" "/api/v1/compose";
    SEND = "POST" "/api/v1/messages";
    RETRY_MESSAGE = "POST" "/api/v1/messages/{id}/retry";
    RETRY_MIRROR = "POST" "/api/v1/messages/{id}/mirror/retry";
    SETTINGS = "GET" "/api/v1/settings";
    PUT_SETTINGS = "PUT" "/api/v1/settings";
    SETTINGS_AUDIT = "GET" "/api/v1/settings/audit";
    QUICK_REPLIES = "GET" "/api/v1/quick-replies";
    CREATE_QUICK_REPLY = "POST" "/api/v1/quick-replies";
    PATCH_QUICK_REPLY = "PATCH" "/api/v1/quick-replies/{id}";
    DELETE_QUICK_REPLY = "DELETE" "/api/v1/quick-replies/{id}";
    PUT_COMPANY_NAME = "PUT" "/api/v1/quick-replies/company";
    CHANNELS = "GET" "/api/v1/channels";
    CREATE_CHANNEL = "POST" "/api/v1/channels";
    PATCH_CHANNEL = "PATCH" "/api/v1/channels/{id}";
    EMPLOYEES = "GET" "/api/v1/employees";
    CREATE_EMPLOYEE = "POST" "/api/v1/employees";
    PATCH_EMPLOYEE = "PATCH" "/api/v1/employees/{id}";
    EMPLOYEE_TOKENS = "GET" "/api/v1/employees/{id}/tokens";
    ISSUE_TOKEN = "POST" "/api/v1/employees/{id}/tokens";
    REVOKE_TOKEN = "DELETE" "/api/v1/tokens/{id}";
    CRM_SEARCH = "GET" "/api/v1/crm";
    CRM_CREATE = "POST" "/api/v1/crm/{kind}";
    CRM_ENTITY = "GET" "/api/v1/crm/{kind}/{id}";
    CRM_PATCH = "PATCH" "/api/v1/crm/{kind}/{id}";
    CRM_TIMELINE = "GET" "/api/v1/crm/{kind}/{id}/timeline";
    CRM_CONNECTION = "GET" "/api/v1/crm/connection";
    CRM_CONNECT = "PUT" "/api/v1/crm/connection";
    CRM_DISCONNECT = "DELETE" "/api/v1/crm/connection";
    CRM_CHECK = "POST" "/api/v1/crm/connection/check";
    CRM_EVENTS = "PUT" "/api/v1/crm/connection/events";
}

/// The kinds of change beyond the first version's that this client reads (`GET /api/v1/sync`'s
/// `with`).
pub const SYNC_WITH: &str = "quick_replies";

/// Why a call did not give its answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer: the hub is out of reach, or the connection broke (the call may be retried).
    #[error("the hub cannot be reached: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// The hub answered with an error.
    #[error("{}", .0.message)]
    Refused(HubError),
    /// An answer that is not what the operation documents.
    #[error("the hub sent something unreadable: {0}")]
    Unreadable(String),
    /// Refused here, before anything was sent: a path argument that cannot name anything.
    #[error("not sent: {0}")]
    BadArgument(String),
}

/// The hub's error answer, with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubError {
    pub status: u16,
    /// Stable, snake_case (`hub_error` when the answer had none).
    pub code: String,
    /// For people (the status when the answer had none).
    pub message: String,
    /// `client_taken`: the name of the employee whose client it is.
    pub owner: Option<String>,
}

impl ClientError {
    /// The hub's status, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Refused(e) => Some(e.status),
            _ => None,
        }
    }
    /// The hub does not take this token (revoked, the employee deactivated, never issued).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }
    /// The hub answered 5xx or not at all: worth another try later; a 4xx is a refusal.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable(_) => true,
            ClientError::Refused(e) => e.status >= 500,
            ClientError::Unreadable(_) | ClientError::BadArgument(_) => false,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_decode() {
            ClientError::Unreadable(e.without_url().to_string())
        } else {
            ClientError::Unreachable(e.without_url())
        }
    }
}

pub type ClientResult<T> = Result<T, ClientError>;

/// A hub at `base` (`http://127.0.0.1:8080`), called with one bearer token.
#[derive(Clone)]
pub struct HubClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl std::fmt::Debug for HubClient {
    // The token stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl HubClient {
    pub fn new(http: reqwest::Client, base: &str, token: &str) -> HubClient {
        HubClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// The hub's address, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// A request for `op` with its path arguments, authorized.
    pub fn request(&self, op: Op, args: &[&str]) -> ClientResult<reqwest::RequestBuilder> {
        Ok(self
            .http
            .request(op.method(), format!("{}{}", self.base, op.fill(args)?))
            .bearer_auth(&self.token))
    }

    /// Sends `req`; a non-success answer becomes [`ClientError::Refused`].
    pub async fn send(req: reqwest::RequestBuilder) -> ClientResult<reqwest::Response> {
        let resp = req.send().await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(ClientError::Refused(hub_error(resp).await))
    }

    /// Sends `req` and reads the documented answer.
    async fn answer<T: DeserializeOwned>(req: reqwest::RequestBuilder) -> ClientResult<T> {
        let bytes = Self::send(req).await?.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Unreadable(e.to_string()))
    }

    async fn get<T: DeserializeOwned>(&self, op: Op, args: &[&str]) -> ClientResult<T> {
        Self::answer(self.request(op, args)?).await
    }

    async fn with_body<T: DeserializeOwned, B: Serialize>(
        &self,
        op: Op,
        args: &[&str],
        body: &B,
    ) -> ClientResult<T> {
        Self::answer(self.request(op, args)?.json(body)).await
    }

    /// An operation whose answer has no body (204), or one the caller does not need.
    async fn act(&self, op: Op, args: &[&str]) -> ClientResult<()> {
        Self::send(self.request(op, args)?).await.map(drop)
    }

    // — the caller —

    pub async fn me(&self) -> ClientResult<EmployeeView> {
        self.get(ops::ME, &[]).await
    }

    /// Gives up this client's own token (signing out). Already gone counts as done.
    pub async fn revoke_own_token(&self) -> ClientResult<()> {
        let req = self
            .request(ops::REVOKE_OWN_TOKEN, &[])?
            .timeout(Duration::from_secs(5));
        match Self::send(req).await {
            Err(e) if e.is_unauthorized() => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn counters(&self) -> ClientResult<Counters> {
        self.get(ops::COUNTERS, &[]).await
    }

    /// What changed for the caller after `cursor` (0: everything).
    pub async fn sync(&self, cursor: i64) -> ClientResult<SyncResponse> {
        self.sync_page(cursor, None).await
    }

    /// [`sync`](Self::sync), or with `page` the next page of a snapshot (its answer's `page`).
    pub async fn sync_page(&self, cursor: i64, page: Option<&str>) -> ClientResult<SyncResponse> {
        let mut req = self
            .request(ops::SYNC, &[])?
            .query(&[("cursor", cursor.to_string().as_str()), ("with", SYNC_WITH)]);
        if let Some(page) = page {
            req = req.query(&[("page", page)]);
        }
        Self::answer(req).await
    }

    /// The live events stream (Server-Sent Events), once the hub accepted it.
    pub async fn events(&self) -> ClientResult<reqwest::Response> {
        Self::send(self.request(ops::EVENTS, &[])?).await
    }

    // — chats and messages —

    pub async fn chats(&self) -> ClientResult<Vec<ChatView>> {
        self.get(ops::CHATS, &[]).await
    }

    /// A chat's messages, newest `limit`, or those before the message `before`.
    /// A message's kept file: the answer, for its body to be streamed (its headers name the
    /// type to show it as).
    pub async fn message_media(&self, message: &str) -> ClientResult<reqwest::Response> {
        // A file of up to 50 MB; a stalled hub is given up on.
        let req = self
            .request(ops::MESSAGE_MEDIA, &[message])?
            .timeout(std::time::Duration::from_secs(120));
        Self::send(req).await
    }

    /// Sends a file to a chat: `body` is its bytes (a stream, so a desktop can count them out),
    /// `size` their number, `mime` its type as read here. The same `key` twice sends once.
    pub async fn send_file(
        &self,
        chat: &str,
        key: &str,
        name: &str,
        mime: &str,
        size: u64,
        body: reqwest::Body,
    ) -> ClientResult<SendAccepted> {
        let name = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        let req = self
            .request(ops::SEND_FILE, &[chat])?
            .header("idempotency-key", key)
            .header("x-file-name", name)
            // The type as the desktop read it (text has no signature: the hub checks it is text).
            .header(reqwest::header::CONTENT_TYPE, mime)
            .header(reqwest::header::CONTENT_LENGTH, size)
            // Up to 10 MB over a slow link; a stalled hub is given up on.
            .timeout(std::time::Duration::from_secs(120))
            .body(body);
        Self::answer(req).await
    }

    pub async fn chat_messages(
        &self,
        chat: &str,
        before: Option<&str>,
        limit: Option<u32>,
    ) -> ClientResult<Vec<MessageView>> {
        let mut req = self.request(ops::CHAT_MESSAGES, &[chat])?;
        if let Some(b) = before {
            req = req.query(&[("before", b)]);
        }
        if let Some(l) = limit {
            req = req.query(&[("limit", l)]);
        }
        Self::answer(req).await
    }

    pub async fn mark_answered(&self, chat: &str) -> ClientResult<ChatView> {
        self.get(ops::MARK_ANSWERED, &[chat]).await
    }

    /// Marks the chat as unanswered (answered too early): a reply is owed again.
    pub async fn mark_unanswered(&self, chat: &str) -> ClientResult<ChatView> {
        self.get(ops::MARK_UNANSWERED, &[chat]).await
    }

    /// Messages of the chats this employee may see matching `query` (every word), newest
    /// first; kept to a channel, one's own chats, messages at or after `since` and older than
    /// message `before`.
    #[allow(
        clippy::too_many_arguments,
        reason = "the query's parameters, each optional"
    )]
    pub async fn search(
        &self,
        query: &str,
        limit: u32,
        channel: Option<&str>,
        mine: bool,
        since: Option<&str>,
        before: Option<&str>,
    ) -> ClientResult<SearchResults> {
        let mut params: Vec<(&str, String)> =
            vec![("q", query.to_owned()), ("limit", limit.to_string())];
        if let Some(b) = before {
            params.push(("before", b.to_owned()));
        }
        if let Some(c) = channel {
            params.push(("channel", c.to_owned()));
        }
        if mine {
            params.push(("mine", "true".to_owned()));
        }
        if let Some(s) = since {
            params.push(("since", s.to_owned()));
        }
        let req = self.request(ops::SEARCH, &[])?.query(&params);
        Self::answer(req).await
    }

    /// Whom this employee may hand the chat to.
    pub async fn transfer_candidates(&self, chat: &str) -> ClientResult<Vec<TransferCandidate>> {
        self.get(ops::TRANSFER_CANDIDATES, &[chat]).await
    }

    /// Hands the chat to employee `to`.
    pub async fn transfer(&self, chat: &str, to: &str) -> ClientResult<TransferView> {
        self.with_body(ops::TRANSFER, &[chat], &TransferChat { to: to.to_owned() })
            .await
    }

    pub async fn transfers(&self) -> ClientResult<Vec<TransferView>> {
        self.get(ops::TRANSFERS, &[]).await
    }

    /// Writing first to a number as typed: the number read and the preselected channel.
    pub async fn compose_phone(&self, phone: &str) -> ClientResult<ComposeView> {
        let req = self.request(ops::COMPOSE, &[])?.query(&[("phone", phone)]);
        Self::answer(req).await
    }

    /// Writing first to a CRM entity (`kind:id`).
    pub async fn compose_crm(&self, crm: &str) -> ClientResult<ComposeView> {
        let req = self.request(ops::COMPOSE, &[])?.query(&[("crm", crm)]);
        Self::answer(req).await
    }

    pub async fn send_message(&self, message: &SendMessage) -> ClientResult<SendAccepted> {
        self.with_body(ops::SEND, &[], message).await
    }

    pub async fn retry_message(&self, id: &str) -> ClientResult<MessageView> {
        self.get(ops::RETRY_MESSAGE, &[id]).await
    }

    pub async fn retry_mirror(&self, id: &str) -> ClientResult<MessageView> {
        self.get(ops::RETRY_MIRROR, &[id]).await
    }

    // — settings and channels —

    pub async fn settings(&self) -> ClientResult<Settings> {
        self.get(ops::SETTINGS, &[]).await
    }

    pub async fn put_settings(&self, patch: &SettingsPatch) -> ClientResult<Settings> {
        self.with_body(ops::PUT_SETTINGS, &[], patch).await
    }

    pub async fn settings_audit(&self) -> ClientResult<Vec<AuditEntry>> {
        self.get(ops::SETTINGS_AUDIT, &[]).await
    }

    // — quick replies —

    pub async fn quick_replies(&self) -> ClientResult<QuickRepliesView> {
        self.get(ops::QUICK_REPLIES, &[]).await
    }

    pub async fn create_quick_reply(&self, new: &NewQuickReply) -> ClientResult<QuickReplyView> {
        self.with_body(ops::CREATE_QUICK_REPLY, &[], new).await
    }

    pub async fn patch_quick_reply(
        &self,
        id: &str,
        patch: &QuickReplyPatch,
    ) -> ClientResult<QuickReplyView> {
        self.with_body(ops::PATCH_QUICK_REPLY, &[id], patch).await
    }

    pub async fn delete_quick_reply(&self, id: &str) -> ClientResult<()> {
        self.act(ops::DELETE_QUICK_REPLY, &[id]).await
    }

    pub async fn put_company_name(&self, name: &CompanyName) -> ClientResult<CompanyName> {
        self.with_body(ops::PUT_COMPANY_NAME, &[], name).await
    }

    pub async fn channels(&self) -> ClientResult<Vec<ChannelView>> {
        self.get(ops::CHANNELS, &[]).await
    }

    pub async fn create_channel(&self, channel: &NewChannel) -> ClientResult<ChannelView> {
        self.with_body(ops::CREATE_CHANNEL, &[], channel).await
    }

    pub async fn patch_channel(&self, id: &str, patch: &ChannelPatch) -> ClientResult<ChannelView> {
        self.with_body(ops::PATCH_CHANNEL, &[id], patch).await
    }

    // — employees and sign-ins —

    pub async fn employees(&self) -> ClientResult<Vec<EmployeeView>> {
        self.get(ops::EMPLOYEES, &[]).await
    }

    pub async fn create_employee(&self, employee: &NewEmployee) -> ClientResult<CreatedEmployee> {
        self.with_body(ops::CREATE_EMPLOYEE, &[], employee).await
    }

    pub async fn patch_employee(
        &self,
        id: &str,
        patch: &EmployeePatch,
    ) -> ClientResult<EmployeeView> {
        self.with_body(ops::PATCH_EMPLOYEE, &[id], patch).await
    }

    pub async fn employee_tokens(&self, id: &str) -> ClientResult<Vec<TokenView>> {
        self.get(ops::EMPLOYEE_TOKENS, &[id]).await
    }

    /// A new sign-in for an employee (the demo's "sign in as").
    pub async fn issue_token(&self, id: &str) -> ClientResult<IssuedToken> {
        self.get(ops::ISSUE_TOKEN, &[id]).await
    }

    pub async fn revoke_token(&self, id: &str) -> ClientResult<()> {
        self.act(ops::REVOKE_TOKEN, &[id]).await
    }

    // — CRM —

    /// Leads, contacts and deals by title or phone.
    pub async fn crm_search(&self, query: &str) -> ClientResult<Vec<CrmEntityView>> {
        let req = self.request(ops::CRM_SEARCH, &[])?.query(&[("q", query)]);
        Self::answer(req).await
    }

    pub async fn crm_create(
        &self,
        kind: EntityKind,
        entity: &NewCrmEntity,
    ) -> ClientResult<Created> {
        self.with_body(ops::CRM_CREATE, &[kind.plural()], entity)
            .await
    }

    pub async fn crm_entity(&self, kind: EntityKind, id: &str) -> ClientResult<CrmEntityView> {
        self.get(ops::CRM_ENTITY, &[kind.plural(), id]).await
    }

    pub async fn crm_patch(
        &self,
        kind: EntityKind,
        id: &str,
        patch: &CrmEntityPatch,
    ) -> ClientResult<CrmEntityView> {
        self.with_body(ops::CRM_PATCH, &[kind.plural(), id], patch)
            .await
    }

    pub async fn crm_timeline(
        &self,
        kind: EntityKind,
        id: &str,
    ) -> ClientResult<Vec<TimelineEntry>> {
        self.get(ops::CRM_TIMELINE, &[kind.plural(), id]).await
    }

    pub async fn crm_connection(&self) -> ClientResult<CrmConnectionView> {
        self.get(ops::CRM_CONNECTION, &[]).await
    }

    /// The portal and user behind a webhook URL; nothing is saved.
    pub async fn check_crm(&self, connect: &CrmConnect) -> ClientResult<CrmConnectionView> {
        self.with_body(ops::CRM_CHECK, &[], connect).await
    }

    pub async fn connect_crm(&self, connect: &CrmConnect) -> ClientResult<CrmConnectionView> {
        self.with_body(ops::CRM_CONNECT, &[], connect).await
    }

    pub async fn disconnect_crm(&self) -> ClientResult<CrmConnectionView> {
        self.get(ops::CRM_DISCONNECT, &[]).await
    }

    pub async fn set_crm_events(&self, events: &CrmEvents) -> ClientResult<CrmConnectionView> {
        self.with_body(ops::CRM_EVENTS, &[], events).await
    }
}

/// Reads the hub's error answer; a body it cannot read gives the status instead.
pub async fn hub_error(resp: reqwest::Response) -> HubError {
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(ErrorBody { error }) => HubError {
            status: status.as_u16(),
            code: error.code,
            message: error.message,
            owner: error.owner,
        },
        Err(_) => HubError {
            status: status.as_u16(),
            code: "hub_error".to_owned(),
            message: format!("the hub answered {status}"),
            owner: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_filled_in_order_and_encoded() {
        assert_eq!(
            ops::CHAT_MESSAGES.fill(&["c/1 x?y#z"]).ok().as_deref(),
            Some("/api/v1/chats/c%2F1%20x%3Fy%23z/messages")
        );
        assert_eq!(
            ops::CRM_TIMELINE.fill(&["deals", "7"]).ok().as_deref(),
            Some("/api/v1/crm/deals/7/timeline")
        );
        assert_eq!(ops::ME.fill(&[]).ok().as_deref(), Some("/api/v1/me"));
    }

    /// `.` and `..` would walk the URL's path to another route; empty would name nothing.
    #[test]
    fn arguments_that_cannot_name_anything_are_refused_before_sending() {
        for bad in ["", ".", ".."] {
            assert!(matches!(
                ops::ISSUE_TOKEN.fill(&[bad]),
                Err(ClientError::BadArgument(_))
            ));
        }
        assert!(
            ops::ISSUE_TOKEN.fill(&["..a"]).is_ok(),
            "only the whole segment"
        );
        assert!(matches!(
            ops::CRM_TIMELINE.fill(&["deals"]),
            Err(ClientError::BadArgument(_))
        ));
        assert!(matches!(
            ops::ME.fill(&["x"]),
            Err(ClientError::BadArgument(_))
        ));
        let hub = HubClient::new(reqwest::Client::new(), "http://127.0.0.1:9", "t");
        assert!(matches!(
            hub.request(ops::REVOKE_TOKEN, &[".."]),
            Err(ClientError::BadArgument(_))
        ));
    }

    #[test]
    fn every_operation_is_listed_once() {
        for (i, a) in ops::ALL.iter().enumerate() {
            for b in &ops::ALL[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn patches_send_only_what_changes_and_null_clears() {
        let patch = EmployeePatch {
            priority_channel_id: Some(None),
            active: Some(false),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&patch).ok(),
            Some(serde_json::json!({"priority_channel_id": null, "active": false}))
        );
    }
}
