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

/// Reads the blocks of `## must_haves`: a `###` heading picks the list the next list fills.
pub(super) struct Parser {
    current: Option<List>,
    place: String,
}

impl Default for Parser {
    fn default() -> Self {
        Parser { current: None, place: "must_haves".to_owned() }
    }
}

impl Parser {
    pub(super) fn block(&mut self, doc: &mut Doc, plan: &mut Plan, block: &Block) {
        match block.kind {
            BlockKind::Heading(3) => {
                let text = block.inline_text();
                // The parenthetical in `### truths (observable outcomes)` is optional.
                let key = normalize_heading(text.split('(').next().unwrap_or_default());
                self.current = match key.as_str() {
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
                self.place = format!("must_haves / {text}");
            }
            BlockKind::List if self.current.is_some() => {
                for item in block.list_items() {
                    let (start, _) = doc.item_content(block, &item);
                    let span = Span::new(start, item.span.end);
                    let text = doc.clean(span);
                    let codes = block.code_spans(item.events.clone());
                    match self.current {
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
            _ => plan.extra.push(ExtraBlock {
                section: self.place.clone(),
                text: doc.clean(block.span),
                span: block.span,
            }),
        }
    }
}
