//! Asking the organisation's model with the answer shown as it is written: the API's
//! `POST /analyses/{id}/ai/stream` read with XMLHttpRequest, whose text grows as server-sent
//! events arrive (fetch's streams would need more of web-sys for the same thing).

use crate::api::ai::Explained;

/// Where an answer stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Asking {
    /// Nothing asked yet.
    #[default]
    Idle,
    /// Being written: the text so far, and why earlier attempts were dropped.
    Writing {
        /// The answer so far, as plain text.
        text: String,
        /// Providers that stopped mid-answer.
        restarts: Vec<String>,
    },
    /// Written.
    Done(Explained),
    /// Failed, with a message for the reader.
    Failed(String),
}

impl Asking {
    /// Whether an answer is being written.
    pub fn busy(&self) -> bool {
        matches!(self, Self::Writing { .. })
    }

    /// Applies one server-sent event (`text`, `restart`, `done` or `error`).
    pub fn apply(&mut self, event: &str, data: &str) {
        match event {
            "text" => {
                let piece: String = serde_json::from_str(data).unwrap_or_default();
                match self {
                    Self::Writing { text, .. } => text.push_str(&piece),
                    _ => {
                        *self = Self::Writing {
                            text: piece,
                            restarts: Vec::new(),
                        }
                    }
                }
            }
            "restart" => {
                let note: String = serde_json::from_str(data).unwrap_or_default();
                let mut restarts = match std::mem::take(self) {
                    Self::Writing { restarts, .. } => restarts,
                    _ => Vec::new(),
                };
                restarts.push(note);
                *self = Self::Writing {
                    text: String::new(),
                    restarts,
                };
            }
            "done" => {
                *self = match serde_json::from_str::<Explained>(data) {
                    Ok(done) => Self::Done(done),
                    Err(_) => Self::Failed("The answer arrived damaged; ask again.".into()),
                }
            }
            "error" => {
                let doc: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
                *self = Self::Failed(
                    doc["message"]
                        .as_str()
                        .unwrap_or("The answer could not be completed; try again.")
                        .to_owned(),
                );
            }
            _ => {}
        }
    }
}

/// Splits complete server-sent events off the front of `buffer`, as `(event, data)`; an
/// incomplete last event stays for the next call. Answers how many bytes were consumed.
pub fn take_events(buffer: &str) -> (Vec<(String, String)>, usize) {
    let mut events = Vec::new();
    let mut used = 0;
    while let Some(end) = buffer[used..].find("\n\n") {
        let block = &buffer[used..used + end];
        used += end + 2;
        let mut name = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if !name.is_empty() {
            events.push((name, data));
        }
    }
    (events, used)
}

/// The request's URL.
pub fn url(org: &str, id: &str) -> String {
    use crate::api::account::urlencode;
    format!(
        "/api/v1/analyses/{}/ai/stream?org={}",
        urlencode(id),
        urlencode(org)
    )
}

/// Sends `request` about analysis `id` and follows the answer into `state`.
#[cfg(feature = "hydrate")]
pub fn ask(
    org: &str,
    id: &str,
    request: &crate::api::ai::StreamRequest,
    state: leptos::prelude::RwSignal<Asking>,
) {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;

    state.set(Asking::Writing {
        text: String::new(),
        restarts: Vec::new(),
    });
    let failed = move |_| state.set(Asking::Failed("The browser could not ask.".into()));
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return failed(());
    };
    let body = serde_json::to_string(request).unwrap_or_default();
    if xhr.open_with_async("POST", &url(org, id), true).is_err()
        || xhr
            .set_request_header("Content-Type", "application/json")
            .is_err()
        || xhr
            .set_request_header("Accept", "text/event-stream")
            .is_err()
    {
        return failed(());
    }
    let xhr = Rc::new(xhr);
    // Bytes of the response text already read.
    let read = Rc::new(Cell::new(0usize));
    let pump = {
        let (xhr, read) = (xhr.clone(), read.clone());
        move || {
            if xhr.status().unwrap_or(0) != 200 {
                return;
            }
            let text = xhr.response_text().ok().flatten().unwrap_or_default();
            let from = read.get().min(text.len());
            let (events, used) = take_events(&text[from..]);
            read.set(from + used);
            if !events.is_empty() {
                state.update(|s| {
                    for (name, data) in &events {
                        s.apply(name, data);
                    }
                });
            }
        }
    };
    let on_progress = {
        let pump = pump.clone();
        Closure::<dyn FnMut()>::new(pump)
    };
    let (done, finished) = futures::channel::oneshot::channel::<()>();
    let done = Rc::new(RefCell::new(Some(done)));
    let on_end = {
        let done = done.clone();
        Closure::<dyn FnMut()>::new(move || {
            if let Some(done) = done.borrow_mut().take() {
                let _ = done.send(());
            }
        })
    };
    xhr.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    if xhr.send_with_opt_str(Some(&body)).is_err() {
        return failed(());
    }
    // Leaving the page stops reading; the server still finishes and caches the answer.
    let leaving = send_wrapper::SendWrapper::new(xhr.clone());
    on_cleanup(move || {
        let _ = leaving.abort();
    });
    leptos::task::spawn_local(async move {
        let _ = finished.await;
        drop((on_progress, on_end));
        pump();
        let status = xhr.status().unwrap_or(0);
        if status != 200 {
            let text = xhr.response_text().ok().flatten().unwrap_or_default();
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let message = doc["error"]["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| match status {
                    0 => "The connection was lost.".to_owned(),
                    _ => format!("The server answered {status}."),
                });
            state.set(Asking::Failed(message));
        } else if state.try_with_untracked(Asking::busy).unwrap_or(false) {
            state.set(Asking::Failed(
                "The answer stopped before it was complete; ask again.".into(),
            ));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_taken_whole_and_applied_in_order() {
        let stream = "event: text\ndata: \"### What\"\n\nevent: restart\ndata: \"A failed\"\n\n: keep-alive\n\nevent: text\ndata: \"Hel\"\n\nevent: text\ndata: \"lo\"\n\nevent: te";
        let (events, used) = take_events(stream);
        assert_eq!(events.len(), 4);
        assert_eq!(&stream[used..], "event: te");
        let mut state = Asking::Idle;
        for (name, data) in &events {
            state.apply(name, data);
        }
        assert_eq!(
            state,
            Asking::Writing {
                text: "Hello".into(),
                restarts: vec!["A failed".into()]
            }
        );
        state.apply("error", r#"{"message":"Nope."}"#);
        assert_eq!(state, Asking::Failed("Nope.".into()));
        state.apply("done", "{not json");
        assert!(matches!(state, Asking::Failed(_)));
    }
}
