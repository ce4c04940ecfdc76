//! The tray icon: three states (calm, grey dot, red dot), the totals in its tooltip, and a
//! menu — Open, Do not disturb, Quit.

use switchboard_core::{Counters, TrayState};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

const TRAY_ID: &str = "main";

/// The menu's Do not disturb item, to show a change made from the window.
struct DndItem(CheckMenuItem<tauri::Wry>);

/// Ticks or clears the menu's Do not disturb (when there is a tray).
pub fn show_do_not_disturb(app: &AppHandle, on: bool) {
    if let Some(item) = app.try_state::<DndItem>() {
        let _ = item.0.set_checked(on);
    }
}

/// The icons, decoded when the app is built (no PNG decoder at run time).
fn icon(state: TrayState) -> tauri::Result<Image<'static>> {
    Ok(match state {
        TrayState::Calm => tauri::include_image!("../icons/tray-calm.png"),
        TrayState::Grey => tauri::include_image!("../icons/tray-grey.png"),
        TrayState::Red => tauri::include_image!("../icons/tray-red.png"),
    })
}

/// The tooltip and window-title text of the totals.
pub fn totals_text(c: Counters, russian: bool) -> String {
    if russian {
        format!("Мне ответить: {} · Ждут других: {}", c.red, c.grey)
    } else {
        format!("Mine to answer: {} · Waiting for others: {}", c.red, c.grey)
    }
}

/// Shows, unminimizes and focuses the main window.
pub fn show_window(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

pub fn build(
    app: &AppHandle<tauri::Wry>,
    russian: bool,
    on_dnd: impl Fn(bool) + Send + Sync + 'static,
) -> tauri::Result<()> {
    let (open, dnd, quit) = if russian {
        ("Открыть", "Не беспокоить", "Выйти")
    } else {
        ("Open", "Do not disturb", "Quit")
    };
    let open = MenuItem::with_id(app, "open", open, true, None::<&str>)?;
    let dnd_item = CheckMenuItem::with_id(app, "dnd", dnd, true, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", quit, true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &dnd_item, &quit])?;
    let dnd_handle = dnd_item.clone();
    app.manage(DndItem(dnd_item.clone()));
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(TrayState::Calm)?)
        .tooltip("Switchboard")
        .menu(&menu)
        .on_menu_event(move |app, event| match event.id.as_ref() {
            "open" => show_window(app),
            "dnd" => {
                on_dnd(dnd_handle.is_checked().unwrap_or(false));
                crate::ui_events::emit(app, crate::ui_events::PrefsChanged);
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    Ok(())
}

/// Shows the totals: icon state, tooltip, window title and the launcher icon's badge.
pub fn update(app: &AppHandle, c: Counters, russian: bool) {
    crate::shell::launcher_badge(c);
    let text = totals_text(c, russian);
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        if let Ok(img) = icon(c.tray_state()) {
            let _ = tray.set_icon(Some(img));
        }
        let _ = tray.set_tooltip(Some(&text));
        // Linux panels show no tooltips for app indicators: the totals go in its label.
        let label = match c.tray_state() {
            TrayState::Calm => String::new(),
            _ => format!("{} · {}", c.red, c.grey),
        };
        let _ = tray.set_title(Some(&label));
    }
    if let Some(w) = app.get_webview_window("main") {
        let title = match c.tray_state() {
            TrayState::Calm => "Switchboard".to_owned(),
            _ => format!("Switchboard — {text}"),
        };
        let _ = w.set_title(&title);
    }
}
