//! The domain of Switchboard and the rules of its four workspace settings.
//!
//! Everything here is pure: no I/O, no clock, no threads. The hub and the desktop
//! hand facts in (who is looking, who is responsible, which settings are on, what
//! time it is when time matters) and get decisions back. That is the one design
//! decision of this crate, and its trade-off: callers must gather every fact a rule
//! needs before asking, so a rule can never "look something up" — in exchange every
//! rule is a table that tests can walk exhaustively, and the badge a supervisor sees
//! on the desktop is, by construction, the badge the hub computed.
//!
//! # Glossary
//! - **workspace**: one company — its channels, employees, CRM connection and settings.
//! - **channel**: one connected messenger account (WhatsApp, Telegram, …), maybe through
//!   the CRM's Open Lines.
//! - **chat**: one conversation with one client on one channel.
//! - **responsible**: the employee answerable for a chat, taken from its CRM entities
//!   (deal, then contact, then lead; open ones only).
//! - **unanswered count**: client messages since the last employee reply.
//! - **badge**: what a viewer sees of the unanswered count: the count and red or grey.
//! - **priority channel**: the channel an employee writes first from.
//! - **timeline**: the event feed of a CRM entity, where messages are mirrored.

pub mod cards;
pub mod domain;
pub mod phone;
pub mod replies;
pub mod rules;
pub mod search;
pub mod settings;

pub use cards::{duration_label, is_vcard, read_place, read_vcard, ContactCard, Place};
pub use domain::*;
pub use phone::{read_crm_phone, PhoneError, PhoneErrorKind, E164};
pub use rules::*;
pub use settings::Settings;
