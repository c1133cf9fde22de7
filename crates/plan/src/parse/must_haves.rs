//! `## must_haves`: `### truths`, `### artifacts` and `### key_links` bullet lists.

use super::{Block, BlockKind, Doc, normalize_heading};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Artifact, Block as ExtraBlock, KeyLink, Plan};
use crate::span::{Span, Spanned};

#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Truths,
    Artifacts,
    KeyLinks,
}

pub(super) fn parse(doc: &mut Doc, body: &[Block], plan: &mut Plan) {
    let mut current: Option<List> = None;
    let mut place = "must_haves".to_owned();
    for block in body {
        match block.kind {
            BlockKind::Heading(3) => {
                let text = doc.inline_text(block.inner());
                // The parenthetical in `### truths (observable outcomes)` is optional.
                let key = normalize_heading(text.split('(').next().unwrap_or_default());
                current = match key.as_str() {
                    "truths" | "truth" => Some(List::Truths),
                    "artifacts" | "artifact" => Some(List::Artifacts),
                    "key_links" | "key_link" => Some(List::KeyLinks),
                    _ => {
                        doc.report(
                            Diagnostic::new(
                                Code::UnknownSection,
                                block.span,
                                format!("unknown must_haves list `### {text}`"),
                            )
                            .with_label("kept, but not checked")
                            .with_help("must_haves has `### truths`, `### artifacts` and `### key_links`"),
                        );
                        None
                    }
                };
                place = format!("must_haves / {text}");
            }
            BlockKind::List if current.is_some() => {
                for item in doc.list_items(block) {
                    let (start, _) = doc.item_content(&item);
                    let span = Span::new(start, item.1.end);
                    let text = doc.clean(span);
                    let codes = doc.code_spans(item.0.clone());
                    match current {
                        Some(List::Truths) => plan.must_haves.truths.push(Spanned::new(text, span)),
                        Some(List::Artifacts) => {
                            let path = codes.first().map(|(path, path_span)| {
                                super::tasks::check_path(doc, path, *path_span, "artifact");
                                path.clone()
                            });
                            plan.must_haves.artifacts.push(Artifact { path, text, span });
                        }
                        Some(List::KeyLinks) => {
                            let references = codes.into_iter().map(|(code, _)| code).collect();
                            plan.must_haves.key_links.push(KeyLink { text, references, span });
                        }
                        None => {}
                    }
                }
            }
            _ => plan.extra.push(ExtraBlock { section: place.clone(), text: doc.clean(block.span), span: block.span }),
        }
    }
}
