fn main() {
    // `include_image!` embeds the tray icons decoded at build time: rebuild when one changes.
    for state in ["calm", "grey", "red"] {
        println!("cargo:rerun-if-changed=../icons/tray-{state}.png");
    }
    tauri_build::build()
}
