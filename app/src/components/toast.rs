//! Toasts: short, polite announcements (also read out by screen readers) that dismiss
//! themselves.

use std::time::Duration;

use leptos::prelude::*;

/// How long a toast stays on screen.
pub const LIFETIME: Duration = Duration::from_secs(4);

/// A queue of toasts shared through context.
#[derive(Clone, Copy, Debug)]
pub struct Toasts {
    items: RwSignal<Vec<(u64, String)>>,
    next: StoredValue<u64>,
}

impl Toasts {
    /// Shows `message`, removing it again after [`LIFETIME`].
    pub fn push(self, message: impl Into<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.items.update(|items| items.push((id, message.into())));
        #[cfg(feature = "hydrate")]
        set_timeout(move || self.dismiss(id), LIFETIME);
    }

    /// Removes toast `id`.
    pub fn dismiss(self, id: u64) {
        self.items.update(|items| items.retain(|(i, _)| *i != id));
    }
}

/// Provides the toast queue.
pub fn provide_toasts() {
    provide_context(Toasts {
        items: RwSignal::new(Vec::new()),
        next: StoredValue::new(0),
    });
}

/// The toast queue; a detached one outside [`provide_toasts`].
pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or(Toasts {
        items: RwSignal::new(Vec::new()),
        next: StoredValue::new(0),
    })
}

/// Where toasts appear: a live region, so assistive technology announces them.
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toast-host" role="status" aria-live="polite">
            <For each=move || toasts.items.get() key=|(id, _)| *id let:item>
                <div class="toast">
                    <span>{item.1.clone()}</span>
                    <button
                        type="button"
                        class="toast__close"
                        aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(item.0)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
