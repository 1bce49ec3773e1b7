//! The query planner's fusion: the SLOs that read one metric over one window share
//! one query, `sum by (labels) (increase(metric{common matchers}[window]))`, where
//! the labels are every label an SLO selects or groups on. Each SLO's events are
//! then computed from that answer by applying its own matchers to the returned
//! label sets (as Prometheus does: anchored RE2 regexes, a missing label is `""`)
//! and summing, so Prometheus reads each series once per window however many SLOs
//! read it. Pure: a plan from SLOs, answers from answers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use regex::Regex;
use regex_syntax::ast::{
    self, AssertionKind, Ast, ClassSet, ClassSetItem, GroupKind, LiteralKind, RepetitionKind,
    RepetitionRange,
};

use super::conventions::label;
use super::promql::{
    any_of_matcher, fused_query, width_query, Func, PlannedQuery, QueryKind, Read,
};
use super::{MatchOp, Matcher, Part, PromDuration, Sample, Slo};

/// Series a fused query may return before its SLOs get their own queries.
pub const DEFAULT_MAX_SERIES: usize = 10_000;

/// Fused reads over a window this long or longer are sent as two queries, each
/// for half the values of a label the SLOs pin: Prometheus evaluates a query on
/// one core, and these reads are most of an evaluation's cost (a 28-day read is
/// ~90 % of it), so halves run in parallel read the same samples in less time.
pub const SPLIT_FROM: PromDuration = PromDuration::from_secs(86_400);

/// How queries are planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Fuse SLOs over the same metric and window into one query.
    #[default]
    Fused,
    /// One query per SLO and window (identical queries still sent once).
    Naive,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Self::Fused, Self::Naive];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fused => "fused",
            Self::Naive => "naive",
        }
    }
}

/// One SLO's planned queries, as the planner sees them.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub slo: &'a Slo,
    pub plan: &'a [PlannedQuery],
}

/// An answer an SLO waits for: the member's index and the query kind.
pub type Need = (usize, QueryKind);

/// One query to send and whose answers it holds.
#[derive(Debug)]
pub struct Job {
    /// The window read (for the long-window cache and "read at").
    pub kind: QueryKind,
    pub uses: Vec<Use>,
    /// The queries sent for it: the job's own, or halves of it (see
    /// [`SPLIT_FROM`]) whose series are disjoint, so its answer is their union.
    pub sent: Vec<String>,
}

/// How one need takes its answer from a query.
#[derive(Debug)]
pub enum Use {
    /// The query is the need's own: its answer is taken as is.
    Whole(Need),
    /// One part of the need's events, filtered and summed from a fused answer.
    Part(PartUse),
}

impl Use {
    pub fn need(&self) -> Need {
        match self {
            Self::Whole(need) => *need,
            Self::Part(p) => p.need,
        }
    }
}

/// One part of a need, computed from a fused answer.
#[derive(Debug)]
pub struct PartUse {
    need: Need,
    part: Part,
    /// The function whose tagged series the part sums.
    func: Func,
    /// The need's matchers that the fused query did not apply.
    keep: Vec<Keep>,
    /// Labels the part keeps: the SLO's `group_by`, and `le` for buckets.
    by: Vec<String>,
}

/// A matcher applied client-side.
#[derive(Debug)]
struct Keep {
    matcher: Matcher,
    regex: Option<Arc<Regex>>,
}

/// What the planner decided about one fused read, for `validate` and debug logs.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupNote {
    pub metric: String,
    pub window: PromDuration,
    /// The labels the fused query keeps.
    pub by: Vec<String>,
    pub slos: usize,
    /// Series the fused query returns (counted at the instant), when known.
    pub width: Option<usize>,
    pub fused: bool,
}

/// Every query of one evaluation, keyed by its PromQL, and what was fused.
#[derive(Debug, Default)]
pub struct Fusion {
    pub jobs: BTreeMap<String, Job>,
    pub groups: Vec<GroupNote>,
}

/// One SLO part's read of one metric over one window.
#[derive(Debug, Clone)]
struct Entry<'a> {
    need: Need,
    /// The need's own query, were it not fused.
    own: &'a str,
    part: Part,
    func: Func,
    matchers: &'a [Matcher],
    by: Vec<String>,
}

/// The reads of one metric over one window by several SLOs.
#[derive(Debug)]
struct Group<'a> {
    metric: String,
    window: PromDuration,
    entries: Vec<Entry<'a>>,
    /// Matchers every member has, applied by Prometheus.
    common: Vec<Matcher>,
    /// Each label every member pins with `=` to values that differ, and those
    /// values: `label=~"v1|v2"` makes Prometheus read only the series some
    /// member selects.
    narrow: Vec<(String, Vec<String>)>,
    by: Vec<String>,
}

/// For each label every entry matches with `=`, but not all to one value (that
/// would be common), a matcher for any of those values: a superset of what each
/// entry selects, so the client-side filtering stays exact.
fn narrowing(entries: &[Entry<'_>], common: &[Matcher]) -> Vec<(String, Vec<String>)> {
    let pinned = |e: &Entry<'_>, name: &str| -> Vec<String> {
        e.matchers
            .iter()
            .filter(|m| m.op == MatchOp::Equal && m.name == name)
            .map(|m| m.value.clone())
            .collect()
    };
    let names: BTreeSet<&str> = entries
        .iter()
        .flat_map(|e| e.matchers.iter())
        .filter(|m| m.op == MatchOp::Equal && !common.contains(m))
        .map(|m| m.name.as_str())
        .collect();
    names
        .into_iter()
        .filter_map(|name| {
            let mut values = BTreeSet::new();
            for e in entries {
                let pins = pinned(e, name);
                if pins.is_empty() {
                    return None;
                }
                values.extend(pins);
            }
            Some((name.to_string(), values.into_iter().collect()))
        })
        .collect()
}

impl<'a> Group<'a> {
    fn new(metric: String, window: PromDuration, entries: Vec<Entry<'a>>) -> Self {
        let mut common: Vec<Matcher> = entries.first().map_or_else(Vec::new, |e| {
            let mut m = e.matchers.to_vec();
            m.sort();
            m.dedup();
            m
        });
        common.retain(|m| entries.iter().all(|e| e.matchers.contains(m)));
        let mut by = BTreeSet::new();
        for e in &entries {
            by.extend(e.by.iter().cloned());
            by.extend(
                e.matchers
                    .iter()
                    .filter(|m| !common.contains(m))
                    .map(|m| m.name.clone()),
            );
        }
        let narrow = narrowing(&entries, &common);
        Self {
            metric,
            window,
            entries,
            common,
            narrow,
            by: by.into_iter().collect(),
        }
    }

    /// The matchers Prometheus applies: the common ones and the narrowing ones,
    /// `label` narrowed further to `only` when given.
    fn server_matchers(&self, only: Option<(&str, &[String])>) -> Vec<String> {
        let narrow = self.narrow.iter().map(|(name, values)| match only {
            Some((label, part)) if label == name => any_of_matcher(name, part),
            _ => any_of_matcher(name, values),
        });
        self.common
            .iter()
            .map(ToString::to_string)
            .chain(narrow)
            .collect()
    }

    fn query_for(&self, only: Option<(&str, &[String])>) -> String {
        let funcs: BTreeSet<Func> = self.entries.iter().map(|e| e.func).collect();
        let funcs: Vec<Func> = funcs.into_iter().collect();
        fused_query(
            &self.metric,
            &self.server_matchers(only),
            &self.by,
            &funcs,
            self.window,
        )
    }

    fn query(&self) -> String {
        self.query_for(None)
    }

    /// The queries sent for the group: two halves over the narrowing label with
    /// the most values when the window is long (see [`SPLIT_FROM`]), else its
    /// one query. The label is one the query sums by, so no output series gets
    /// contributions from both halves.
    fn sent(&self) -> Vec<String> {
        let widest = self
            .narrow
            .iter()
            .filter(|(name, _)| self.by.contains(name))
            .max_by_key(|(_, values)| values.len());
        match widest {
            Some((label, values)) if self.window >= SPLIT_FROM && values.len() >= 2 => {
                let (a, b) = values.split_at(values.len() / 2);
                vec![
                    self.query_for(Some((label, a))),
                    self.query_for(Some((label, b))),
                ]
            }
            _ => vec![self.query()],
        }
    }

    fn width_query(&self) -> String {
        width_query(&self.metric, &self.server_matchers(None), &self.by)
    }

    fn slos(&self) -> BTreeSet<usize> {
        self.entries.iter().map(|e| e.need.0).collect()
    }

    /// The distinct queries the group replaces: SLOs whose own queries are
    /// identical are answered by one query anyway.
    fn replaces(&self) -> usize {
        self.entries
            .iter()
            .map(|e| e.own)
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// The anchored regex Prometheus compiles for `pattern`, when the `regex` crate
/// matches it exactly as Go's RE2 does; `None` for anything where the two may
/// read a pattern differently or one of them rejects it (Perl, Unicode and nested
/// classes, class set operations, `\<`, escapes of letters, flags, named groups,
/// nested repeats, repeats over RE2's limit of 1000), which are left to Prometheus.
fn client_regex(pattern: &str) -> Option<Arc<Regex>> {
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .ok()?;
    if !re2_alike(&ast, 1) {
        return None;
    }
    super::anchored::anchored(pattern)
}

/// Whether every node of `ast` means the same to RE2; `repeat` is the product of
/// the repeat counts around it (RE2 refuses more than 1000).
fn re2_alike(ast: &Ast, repeat: u32) -> bool {
    match ast {
        Ast::Empty(_) | Ast::Dot(_) => true,
        Ast::Literal(l) => plain_literal(l),
        Ast::Assertion(a) => matches!(a.kind, AssertionKind::StartLine | AssertionKind::EndLine),
        Ast::ClassBracketed(c) => match &c.kind {
            ClassSet::Item(item) => class_item_alike(item),
            ClassSet::BinaryOp(_) => false,
        },
        Ast::Repetition(r) => {
            let count = match &r.op.kind {
                RepetitionKind::ZeroOrOne
                | RepetitionKind::ZeroOrMore
                | RepetitionKind::OneOrMore => 1,
                RepetitionKind::Range(
                    RepetitionRange::Exactly(n)
                    | RepetitionRange::AtLeast(n)
                    | RepetitionRange::Bounded(_, n),
                ) => (*n).max(1),
            };
            let repeat = repeat.saturating_mul(count);
            repeat <= 1000 && !matches!(*r.ast, Ast::Repetition(_)) && re2_alike(&r.ast, repeat)
        }
        Ast::Group(g) => {
            let plain = match &g.kind {
                GroupKind::CaptureIndex(_) => true,
                GroupKind::NonCapturing(flags) => flags.items.is_empty(),
                GroupKind::CaptureName { .. } => false,
            };
            plain && re2_alike(&g.ast, repeat)
        }
        Ast::Alternation(a) => a.asts.iter().all(|a| re2_alike(a, repeat)),
        Ast::Concat(c) => c.asts.iter().all(|a| re2_alike(a, repeat)),
        Ast::Flags(_) | Ast::ClassUnicode(_) | Ast::ClassPerl(_) => false,
    }
}

/// A character as written, or a punctuation escape (`\.`, `\-`).
fn plain_literal(l: &ast::Literal) -> bool {
    matches!(
        l.kind,
        LiteralKind::Verbatim | LiteralKind::Meta | LiteralKind::Superfluous
    )
}

fn class_item_alike(item: &ClassSetItem) -> bool {
    match item {
        ClassSetItem::Empty(_) | ClassSetItem::Ascii(_) => true,
        ClassSetItem::Literal(l) => plain_literal(l),
        ClassSetItem::Range(r) => plain_literal(&r.start) && plain_literal(&r.end),
        ClassSetItem::Union(u) => u.items.iter().all(class_item_alike),
        ClassSetItem::Unicode(_) | ClassSetItem::Perl(_) | ClassSetItem::Bracketed(_) => false,
    }
}

fn keep(matcher: &Matcher) -> Option<Keep> {
    let regex = match matcher.op {
        MatchOp::Regex | MatchOp::NotRegex => Some(client_regex(&matcher.value)?),
        MatchOp::Equal | MatchOp::NotEqual => None,
    };
    Some(Keep {
        matcher: matcher.clone(),
        regex,
    })
}

/// Whether a label value passes; `None` when the answer cannot be trusted
/// client-side (a newline, which Prometheus 2 and 3 match differently with `.`).
fn passes(keep: &Keep, value: &str) -> Option<bool> {
    let m = &keep.matcher;
    match (&keep.regex, m.op) {
        (Some(_), _) if value.contains('\n') => None,
        (Some(r), MatchOp::Regex) => Some(r.is_match(value)),
        (Some(r), MatchOp::NotRegex) => Some(!r.is_match(value)),
        (_, MatchOp::NotEqual) => Some(m.value != value),
        _ => Some(m.value == value),
    }
}

/// The reads of one planned query of one SLO.
fn reads<'s>(slo: &'s Slo, q: &PlannedQuery) -> Vec<Read<'s>> {
    let mut reads = slo.indicator.event_reads();
    if q.presence {
        reads.extend(slo.indicator.presence_reads());
    }
    reads
}

/// True when every matcher of the SLO can be applied client-side.
fn fusable(slo: &Slo) -> bool {
    slo.indicator
        .event_reads()
        .iter()
        .chain(&slo.indicator.presence_reads())
        .all(|r| r.selector.matchers.iter().all(|m| keep(m).is_some()))
}

/// Groups of reads shared by at least two SLOs, from the needs still fusable.
fn groups<'a>(members: &[Member<'a>], needs: &BTreeSet<Need>) -> Vec<Group<'a>> {
    let mut by_read: BTreeMap<(String, PromDuration), Vec<Entry<'a>>> = BTreeMap::new();
    for (i, m) in members.iter().enumerate() {
        for q in m.plan {
            let QueryKind::Events(window) = q.kind else {
                continue;
            };
            if !needs.contains(&(i, q.kind)) {
                continue;
            }
            for r in reads(m.slo, q) {
                let mut by = m.slo.group_by.clone();
                by.extend(r.part.extra_labels().iter().map(|l| l.to_string()));
                by_read
                    .entry((r.metric(), window))
                    .or_default()
                    .push(Entry {
                        need: (i, q.kind),
                        own: &q.promql,
                        part: r.part,
                        func: r.func,
                        matchers: &r.selector.matchers,
                        by,
                    });
            }
        }
    }
    by_read
        .into_iter()
        .map(|((metric, window), entries)| Group::new(metric, window, entries))
        .collect()
}

/// The fusable groups: each need's reads all sit in groups that replace two
/// distinct queries or more (fusing the reads of one query gains nothing).
fn candidates<'a>(members: &[Member<'a>], mode: Mode) -> Vec<Group<'a>> {
    if mode == Mode::Naive {
        return Vec::new();
    }
    let mut needs: BTreeSet<Need> = members
        .iter()
        .enumerate()
        .filter(|(_, m)| fusable(m.slo))
        .flat_map(|(i, m)| {
            m.plan
                .iter()
                .filter(|q| !q.excludes)
                .map(move |q| (i, q.kind))
        })
        .filter(|(_, kind)| matches!(kind, QueryKind::Events(_)))
        .collect();
    loop {
        let groups = groups(members, &needs);
        let alone: BTreeSet<Need> = groups
            .iter()
            .filter(|g| g.replaces() < 2)
            .flat_map(|g| g.entries.iter().map(|e| e.need))
            .collect();
        if alone.is_empty() {
            return groups;
        }
        needs.retain(|n| !alone.contains(n));
    }
}

/// The width queries the plan needs answered: one per candidate group.
pub fn width_queries(members: &[Member<'_>], mode: Mode) -> BTreeSet<String> {
    candidates(members, mode)
        .iter()
        .map(Group::width_query)
        .collect()
}

/// Plans every query of one evaluation. A group is fused when its width query
/// says it returns at most `max_series` series (`widths` answers width queries);
/// the SLOs of a wider group, or of an unknown width, get their own queries.
pub fn plan(
    members: &[Member<'_>],
    mode: Mode,
    max_series: usize,
    widths: impl Fn(&str) -> Option<usize>,
) -> Fusion {
    let groups = candidates(members, mode);
    let mut fusion = Fusion::default();
    let mut unfused: BTreeSet<Need> = BTreeSet::new();
    for g in &groups {
        let width = widths(&g.width_query());
        let fused = width.is_some_and(|w| w <= max_series);
        if !fused {
            unfused.extend(g.entries.iter().map(|e| e.need));
        }
        fusion.groups.push(GroupNote {
            metric: g.metric.clone(),
            window: g.window,
            by: g.by.clone(),
            slos: g.slos().len(),
            width,
            fused,
        });
    }
    let mut fused_needs = BTreeSet::new();
    for g in &groups {
        let uses: Vec<Use> = g
            .entries
            .iter()
            .filter(|e| !unfused.contains(&e.need))
            .map(|e| {
                fused_needs.insert(e.need);
                Use::Part(PartUse {
                    need: e.need,
                    part: e.part,
                    func: e.func,
                    keep: e
                        .matchers
                        .iter()
                        .filter(|m| !g.common.contains(m))
                        .filter_map(keep)
                        .collect(),
                    by: e.by.clone(),
                })
            })
            .collect();
        if !uses.is_empty() {
            fusion.jobs.insert(
                g.query(),
                Job {
                    kind: QueryKind::Events(g.window),
                    uses,
                    sent: g.sent(),
                },
            );
        }
    }
    for (i, m) in members.iter().enumerate() {
        for q in m
            .plan
            .iter()
            .filter(|q| !fused_needs.contains(&(i, q.kind)))
        {
            add_whole(&mut fusion, (i, q.kind), &q.promql);
        }
    }
    fusion
}

/// Adds a need's own query (sent once however many needs share it).
pub fn add_whole(fusion: &mut Fusion, need: Need, promql: &str) {
    fusion
        .jobs
        .entry(promql.to_string())
        .or_insert_with(|| Job {
            kind: need.1,
            uses: Vec::new(),
            sent: vec![promql.to_string()],
        })
        .uses
        .push(Use::Whole(need));
}

/// An answer as `eval` reads it: samples, or why there are none.
pub type Answer = Result<Vec<Sample>, String>;

/// Each need's answer from the answers of the jobs. Needs whose fused answer
/// cannot be trusted client-side, or that are answered by a query in `retry`,
/// are returned apart, to be asked on their own. Each job's answer is dropped
/// once its needs have theirs (moved to its last need when taken whole), so a
/// large evaluation does not hold every fused answer and every need's at once.
pub fn assemble(
    fusion: &Fusion,
    mut answers: BTreeMap<String, Answer>,
    retry: &BTreeSet<String>,
) -> (BTreeMap<Need, Answer>, BTreeSet<Need>) {
    let mut out: BTreeMap<Need, Answer> = BTreeMap::new();
    let mut refused = BTreeSet::new();
    for (promql, job) in &fusion.jobs {
        if retry.contains(promql) {
            refused.extend(job.uses.iter().map(Use::need));
            continue;
        }
        let Some(mut answer) = answers.remove(promql) else {
            continue;
        };
        let last = job.uses.len().saturating_sub(1);
        for (n, u) in job.uses.iter().enumerate() {
            let need = u.need();
            let synthesized = match (u, &mut answer) {
                (_, Err(e)) => Err(e.clone()),
                (Use::Whole(_), Ok(samples)) if n == last => Ok(std::mem::take(samples)),
                (Use::Whole(_), Ok(samples)) => Ok(samples.clone()),
                (Use::Part(p), Ok(samples)) => match p.sum(samples) {
                    Some(samples) => Ok(samples),
                    None => {
                        refused.insert(need);
                        continue;
                    }
                },
            };
            match (out.get_mut(&need), synthesized) {
                (None, answer) => {
                    out.insert(need, answer);
                }
                (Some(Ok(have)), Ok(more)) => have.extend(more),
                (Some(have), Err(e)) if have.is_ok() => *have = Err(e),
                (Some(_), _) => {}
            }
        }
    }
    for need in &refused {
        out.remove(need);
    }
    (out, refused)
}

/// A label's value; a missing label is `""`, as for Prometheus' matchers.
fn value<'s>(s: &'s Sample, name: &str) -> &'s str {
    s.labels.get(name).map_or("", String::as_str)
}

impl PartUse {
    /// The part's samples: the fused series of its function that pass its
    /// matchers, summed by its labels and tagged with the part, as its own query
    /// would have answered. `None` when a label value cannot be matched safely.
    fn sum(&self, samples: &[Sample]) -> Option<Vec<Sample>> {
        let mut sums: BTreeMap<Vec<&str>, f64> = BTreeMap::new();
        for s in samples {
            if value(s, label::QUERY_PART) != self.func.as_str() {
                continue;
            }
            let mut pass = true;
            for k in &self.keep {
                pass &= passes(k, value(s, &k.matcher.name))?;
            }
            if !pass {
                continue;
            }
            let key: Vec<&str> = self.by.iter().map(|l| value(s, l)).collect();
            *sums.entry(key).or_insert(0.0) += s.value;
        }
        Some(
            sums.into_iter()
                .map(|(key, value)| {
                    let mut labels: BTreeMap<String, String> = self
                        .by
                        .iter()
                        .zip(key)
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(l, v)| (l.clone(), v.to_string()))
                        .collect();
                    labels.insert(label::QUERY_PART.to_string(), self.part.as_str().into());
                    Sample { labels, value }
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests;
