//! Every event Rust sends the webview, named once: its wire name and its payload. The
//! TypeScript map of them is generated into `ui/src/lib/commands.ts`.

use serde::Serialize;
use tauri::{AppHandle, Emitter};
#[cfg(test)]
use ts_rs::TS;

/// An event the webview listens for.
pub trait UiEvent: Serialize + Clone {
    const NAME: &'static str;
}

/// Sends `event` to the webview; a window that is gone has nobody to tell.
pub fn emit<E: UiEvent>(app: &AppHandle, event: E) {
    if let Err(e) = app.emit(E::NAME, event) {
        tracing::debug!(error = %e, event = E::NAME, "event not delivered");
    }
}

macro_rules! ui_events {
    ($($(#[doc = $doc:literal])* $name:ident $(($payload:ty))? = $wire:literal;)*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug, Clone, Serialize)]
            #[cfg_attr(test, derive(TS))]
            pub struct $name $((pub $payload))?;

            impl UiEvent for $name {
                const NAME: &'static str = $wire;
            }
        )*

        /// The TypeScript map from event name to payload.
        #[cfg(test)]
        pub fn typescript() -> String {
            let mut out = String::from("/** Every event Rust sends, by name, with its payload. */\nexport type UiEvents = {\n");
            $(
                out.push_str(&format!("  /**{} */\n  '{}': {},\n", concat!($($doc),*), $wire, <$name as TS>::inline()));
            )*
            out.push_str("};\n");
            out
        }
    };
}

ui_events! {
    /// The local store changed: each view redraws what it shows of the change.
    StoreChanged(crate::vm::StoreChange) = "store-changed";
    /// The session changed: signed in or out, the live link up or down.
    SessionChanged = "session-changed";
    /// This computer's preferences changed outside the window (Do not disturb from the tray).
    PrefsChanged = "prefs-changed";
    /// A notification was clicked: open this chat.
    OpenChat(String) = "open-chat";
    /// A file is on its way to the hub (at most ten times a second per file).
    UploadProgress(crate::vm::UploadProgressVm) = "upload-progress";
}
