//! Workspace operations: what a caller may do and what it does, each over one storage
//! transaction with the time passed in. Below the HTTP edge: an operation answers a value, a
//! [`Refusal`] (the caller's to fix; the edge turns it into a 4xx) or a storage failure.

pub mod admin;
pub mod chats;
pub mod crm;
pub mod replies;
pub mod transfer;

use crate::store::{Caller, StoreError};
use switchboard_core::{self as core, Employee, Role};

/// Why the workspace refuses an operation. Each has one stable code (hub-api.md's error
/// `code`) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// It does not exist — or the caller may not see it, which to them is the same.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller's role may not do this.
    #[error("your role may not {0}")]
    Forbidden(&'static str),
    #[error("chats are seen through an employee's token, not the administrator's")]
    NotAnEmployee,
    #[error("your role has no access to chats")]
    NoChatAccess,
    /// Malformed input: names the field.
    #[error("{field}: {problem}")]
    BadField { field: String, problem: String },
    /// A number that cannot be read (the message names the raw value).
    #[error("{0}")]
    InvalidPhone(String),
    #[error("you cannot deactivate yourself: ask another supervisor")]
    CannotDeactivateSelf,
    #[error("the employee is deactivated: reactivate them first")]
    EmployeeInactive,
    #[error("the workspace uses Bitrix24: edit leads, contacts and deals in the portal")]
    CrmIsBitrix24,
    #[error("connect Bitrix24 first: events come from its outgoing webhook")]
    CrmNotConnected,
    /// A Bitrix24 webhook that did not answer as a portal does.
    #[error("{0}")]
    CrmUnreachable(String),
    #[error("this idempotency_key already names another message")]
    IdempotencyKeyReused,
    #[error("channel {channel} cannot send: {why}")]
    ChannelUnusable { channel: String, why: &'static str },
    /// Writing first to a client someone else answers; `owner` names them when known.
    #[error("{}", match owner {
        Some(name) => format!("this client is {name}'s — ask a supervisor to hand the chat over"),
        None => "this client is not assigned to you — ask a supervisor".to_owned(),
    })]
    ClientTaken { owner: Option<String> },
    /// A Retry on something that had not failed.
    #[error("{0}")]
    NotFailed(String),
    /// The chat is already `0`'s.
    #[error("the chat is already {0}'s")]
    AlreadyResponsible(String),
    /// Bitrix24 names responsibles by its users: `0` has none set.
    #[error("{0} has no Bitrix24 user: set it on the Employees screen first")]
    NoCrmUser(String),
    /// After a hand-over the CRM still names someone else as the chat's responsible.
    #[error("the CRM still names someone else as this chat's responsible: try again")]
    HandOverDiverged,
    /// As many as may be kept (quick replies).
    #[error("{0}")]
    Limit(String),
    /// A file that cannot go to the chat's channel (its size, its type).
    #[error(transparent)]
    File(#[from] core::FileRefusal),
}

/// The kind of answer a refusal is, for the edge to pick a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    NotFound,
    Forbidden,
    Invalid,
    Conflict,
    TooLarge,
    UnsupportedType,
}

impl Refusal {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotFound(_) => "not_found",
            Refusal::Forbidden(_) => "forbidden",
            Refusal::NotAnEmployee => "not_an_employee",
            Refusal::NoChatAccess => "no_chat_access",
            Refusal::BadField { .. } => "invalid_field",
            Refusal::InvalidPhone(_) => "invalid_phone",
            Refusal::CannotDeactivateSelf => "cannot_deactivate_self",
            Refusal::EmployeeInactive => "employee_inactive",
            Refusal::CrmIsBitrix24 => "crm_is_bitrix24",
            Refusal::CrmNotConnected => "crm_not_connected",
            Refusal::CrmUnreachable(_) => "crm_unreachable",
            Refusal::IdempotencyKeyReused => "idempotency_key_reused",
            Refusal::ChannelUnusable { .. } => "channel_unusable",
            Refusal::ClientTaken { .. } => "client_taken",
            Refusal::NotFailed(_) => "not_failed",
            Refusal::Limit(_) => "limit_reached",
            Refusal::AlreadyResponsible(_) => "already_responsible",
            Refusal::NoCrmUser(_) => "no_crm_user",
            Refusal::HandOverDiverged => "hand_over_diverged",
            Refusal::File(f) => f.code(),
        }
    }

    pub fn kind(&self) -> RefusalKind {
        match self {
            Refusal::NotFound(_) => RefusalKind::NotFound,
            Refusal::Forbidden(_) | Refusal::NotAnEmployee | Refusal::NoChatAccess => {
                RefusalKind::Forbidden
            }
            Refusal::BadField { .. } | Refusal::InvalidPhone(_) | Refusal::CrmUnreachable(_) => {
                RefusalKind::Invalid
            }
            Refusal::CannotDeactivateSelf
            | Refusal::EmployeeInactive
            | Refusal::CrmIsBitrix24
            | Refusal::CrmNotConnected
            | Refusal::IdempotencyKeyReused
            | Refusal::ChannelUnusable { .. }
            | Refusal::ClientTaken { .. }
            | Refusal::NotFailed(_)
            | Refusal::Limit(_)
            | Refusal::AlreadyResponsible(_)
            | Refusal::NoCrmUser(_)
            | Refusal::HandOverDiverged => RefusalKind::Conflict,
            Refusal::File(core::FileRefusal::TooBig { .. }) => RefusalKind::TooLarge,
            Refusal::File(core::FileRefusal::Empty) => RefusalKind::Invalid,
            Refusal::File(_) => RefusalKind::UnsupportedType,
        }
    }

    /// `client_taken`: the employee whose client it is.
    pub fn owner(&self) -> Option<&str> {
        match self {
            Refusal::ClientTaken { owner } => owner.as_deref(),
            _ => None,
        }
    }

    pub fn bad_field(field: &str, problem: impl Into<String>) -> Refusal {
        Refusal::BadField {
            field: field.to_owned(),
            problem: problem.into(),
        }
    }
}

/// Why an operation did not give its answer.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something the transaction itself just wrote is not there: a bug, not the caller's.
    #[error("{0} vanished within its own transaction")]
    Vanished(&'static str),
}

impl From<rusqlite::Error> for WorkspaceError {
    fn from(e: rusqlite::Error) -> Self {
        WorkspaceError::Store(e.into())
    }
}

pub type WsResult<T> = Result<T, WorkspaceError>;

// — who may call —

/// A supervisor or the administrator; their id (`admin` for the administrator).
pub fn manager(caller: &Caller, what: &'static str) -> Result<String, Refusal> {
    match caller {
        Caller::Admin => Ok("admin".into()),
        Caller::Employee(e) if e.role == Role::Supervisor => Ok(e.id.clone()),
        Caller::Employee(_) => Err(Refusal::Forbidden(what)),
    }
}

/// The administrator only.
pub fn admin(caller: &Caller, what: &'static str) -> Result<(), Refusal> {
    match caller {
        Caller::Admin => Ok(()),
        Caller::Employee(_) => Err(Refusal::Forbidden(what)),
    }
}

/// An employee (chats are seen through an employee's token).
pub fn employee(caller: Caller) -> Result<Employee, Refusal> {
    match caller {
        Caller::Employee(e) => Ok(e),
        Caller::Admin => Err(Refusal::NotAnEmployee),
    }
}

/// An employee who may work with chats: role `none` has no access to chats, and so none to
/// writing first, CRM search or anything else that reaches a client.
pub fn chat_worker(caller: Caller) -> Result<Employee, Refusal> {
    let me = employee(caller)?;
    if me.role == Role::None {
        return Err(Refusal::NoChatAccess);
    }
    Ok(me)
}

// — input —

pub fn non_empty(field: &str, v: &str) -> Result<(), Refusal> {
    if v.trim().is_empty() {
        return Err(Refusal::bad_field(field, "must not be empty"));
    }
    Ok(())
}

/// A field that, when given, must not be empty.
pub fn non_empty_if(field: &str, v: Option<&str>) -> Result<(), Refusal> {
    v.map_or(Ok(()), |v| non_empty(field, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_taken_names_the_owner_when_known() {
        let named = Refusal::ClientTaken {
            owner: Some("Anna".into()),
        };
        assert_eq!(
            named.to_string(),
            "this client is Anna's — ask a supervisor to hand the chat over"
        );
        assert_eq!(named.owner(), Some("Anna"));
        let unnamed = Refusal::ClientTaken { owner: None };
        assert!(unnamed.to_string().contains("not assigned to you"));
        assert_eq!(unnamed.code(), "client_taken");
        assert_eq!(unnamed.kind(), RefusalKind::Conflict);
    }

    #[test]
    fn roles_are_refused_with_their_own_codes() {
        let seller = Employee {
            id: "e1".into(),
            name: "S".into(),
            role: Role::Seller,
            receives_new_clients: false,
            priority_channel_id: None,
        };
        let none = Employee {
            role: Role::None,
            ..seller.clone()
        };
        assert_eq!(
            manager(&Caller::Employee(seller.clone()), "x"),
            Err(Refusal::Forbidden("x"))
        );
        assert_eq!(manager(&Caller::Admin, "x").as_deref(), Ok("admin"));
        assert_eq!(employee(Caller::Admin), Err(Refusal::NotAnEmployee));
        assert_eq!(
            chat_worker(Caller::Employee(none)),
            Err(Refusal::NoChatAccess)
        );
        assert!(chat_worker(Caller::Employee(seller)).is_ok());
        assert_eq!(
            non_empty("name", "  "),
            Err(Refusal::bad_field("name", "must not be empty"))
        );
    }
}
