//! The one catalog of diagnostic codes.
//!
//! Each code is stable: once released it keeps its meaning. Prefixes by stage:
//! `VG0xx` files, `VG1xx` YAML and the content model, `VG2xx` Sentinel's limits,
//! `VG3xx` provenance and review fields, `VG4xx` compilation, `DEP` deploy, `POL` policy, `GATE` the gate's stages (tests, dry-run, plan).
//! `docs/diagnostics.md` is generated from this table (`vigil debug codes --markdown`)
//! and a test fails when it drifts.

use super::Severity;

/// A stable diagnostic code such as `VG101`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub &'static str);

impl Code {
    /// The catalog entry for this code.
    pub fn info(self) -> &'static CodeInfo {
        CATALOG
            .iter()
            .find(|c| c.code == self.0)
            .expect("every Code constant is in the catalog")
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Documentation of one code.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: &'static str,
    /// snake_case name of the pattern it flags.
    pub name: &'static str,
    pub default_severity: Severity,
    pub summary: &'static str,
    pub why: &'static str,
    pub example: &'static str,
}

macro_rules! catalog {
    ($( $konst:ident = $code:literal $sev:ident $name:literal
        summary $summary:literal why $why:literal example $example:literal; )*) => {
        /// Constants for every code, by name.
        pub mod code {
            $( pub const $konst: super::Code = super::Code($code); )*
        }
        /// Every code, in order.
        pub static CATALOG: &[CodeInfo] = &[
            $( CodeInfo {
                code: $code,
                name: $name,
                default_severity: Severity::$sev,
                summary: $summary,
                why: $why,
                example: $example,
            }, )*
        ];
    };
}

catalog! {
    IO_ERROR = "VG001" Error "unreadable_file"
        summary "The file could not be read."
        why "vigil cannot check what it cannot read; the rest of the run goes on."
        example "a file removed while vigil was running";
    FILE_TOO_LARGE = "VG002" Error "file_too_large"
        summary "The file is larger than the configured limit (`[validate] max_file_size`, 1 MiB by default)."
        why "No Sentinel definition is this large (a query is at most 10,000 characters); a huge file is a mistake or an attack on the CI runner."
        example "a 40 MB log export committed under detections/";
    BINARY_FILE = "VG003" Error "binary_file"
        summary "The file contains NUL bytes: it is binary, not YAML."
        why "Binary files in content folders are usually committed by accident."
        example "a .yaml file that is really a zip archive";
    NOT_UTF8 = "VG004" Error "not_utf8"
        summary "The file is not valid UTF-8."
        why "Sentinel stores rule text as Unicode; a file in another encoding would deploy garbled text."
        example "a rule saved as Windows-1252 with an accented author name";
    EMPTY_FILE = "VG005" Warning "empty_file"
        summary "The file is empty or holds only comments."
        why "An empty file defines nothing; it is usually a leftover."
        example "detections/new-rule.yaml with no content";
    BYTE_ORDER_MARK = "VG006" Note "byte_order_mark"
        summary "The file starts with a UTF-8 byte-order mark; it is ignored."
        why "Some Windows editors add one. It is harmless for vigil, but some tools choke on it."
        example "a rule saved by Notepad";
    PATH_NOT_UTF8 = "VG007" Error "path_not_utf8"
        summary "A content file's name is not valid UTF-8 (shown with its bytes escaped, `x\\xfe.yaml`)."
        why "Two names that differ only in invalid bytes would collapse into one when shown, so one file could be judged twice and another never."
        example "detections/x\\xfe.yaml beside detections/x\\xff.yaml";
    PATH_OUTSIDE_REPOSITORY = "VG008" Error "path_outside_repository"
        summary "A path that content or vigil.toml names leads outside the repository: absolute, `..` above the root, or a symbolic link out of it."
        why "A pull request's files are untrusted input: a watchlist `source: /proc/self/environ` would put the runner's secrets into the report the trusted job publishes."
        example "source: ../../etc/passwd";

    YAML_SYNTAX = "VG101" Error "yaml_syntax"
        summary "The YAML does not parse."
        why "Sentinel's tooling cannot read the file at all."
        example "name: Rule {{Title}}  # unquoted braces";
    DUPLICATE_KEY = "VG102" Error "duplicate_key"
        summary "The same key appears twice in one mapping."
        why "YAML forbids duplicate keys; parsers disagree on which value wins, so what you review may not be what deploys."
        example "severity: Low\nseverity: High";
    NESTING_TOO_DEEP = "VG103" Error "nesting_too_deep"
        summary "The YAML nests deeper than vigil's limit (64 levels)."
        why "No definition needs it; unbounded nesting is a denial-of-service vector."
        example "[[[[[[...]]]]]] nested thousands of times";
    NOT_A_MAPPING = "VG104" Error "not_a_mapping"
        summary "The document is not a mapping of keys to values."
        why "Every definition is a YAML mapping (`id:`, `name:`, `query:` ...)."
        example "- just\n- a list";
    MOVED_STUB = "VG105" Note "moved_stub"
        summary "Not a definition: the file only says that its content moved elsewhere."
        why "Azure-Sentinel left such stubs behind after a content migration; they have no query and deploy nothing."
        example "description: As part of content migration, this file is moved to new location.";
    UNKNOWN_KEY = "VG106" Warning "unknown_key"
        summary "A key that this kind of definition does not have; it is ignored."
        why "Most unknown keys are typos of real ones, which then silently fall back to defaults."
        example "queryFrequncy: 1h";
    WRONG_TYPE = "VG107" Error "wrong_type"
        summary "A value has the wrong type."
        why "Sentinel rejects the definition, or reads something else than intended."
        example "triggerThreshold: many";
    MISSING_FIELD = "VG108" Error "missing_field"
        summary "A required field is missing."
        why "Sentinel (or the Azure-Sentinel validator) requires it."
        example "a Scheduled rule without queryFrequency";
    INVALID_VALUE = "VG109" Error "invalid_value"
        summary "A value is not one of the allowed values."
        why "Sentinel accepts only the listed values."
        example "severity: Hight";
    NONCANONICAL_SPELLING = "VG110" Warning "noncanonical_spelling"
        summary "A value is accepted but spelled differently from Sentinel's canonical form."
        why "The Azure-Sentinel tooling reads enum values case-insensitively, so vigil accepts them and compiles the canonical spelling; writing it that way keeps diffs clean."
        example "severity: HIGH";
    COERCED_VALUE = "VG111" Warning "coerced_value"
        summary "A value of another shape was converted (a comma-separated string into a list, a number into a string)."
        why "Real content has these shapes and the Azure-Sentinel tooling tolerates them; the canonical shape avoids surprises."
        example "tactics: CommandAndControl";
    UNCLASSIFIED_FILE = "VG112" Warning "unclassified_file"
        summary "vigil cannot tell from the folder what kind of content this file is; it is skipped."
        why "The folder decides the kind (detections/, hunts/, ...), so a file elsewhere is ambiguous. Configure `[content]` in vigil.toml to add folders."
        example "queries/my-rule.yaml";
    IGNORED_RULE_KEY = "VG113" Warning "ignored_rule_key"
        summary "A hunting query carries keys that only analytics rules use; they are ignored and no alert rule is created."
        why "Hunting queries deploy as saved searches, which never run on a schedule or raise alerts. If you meant a detection, move the file to a rules folder."
        example "a file under Hunting Queries/ with kind: Scheduled and queryFrequency: 1h";
    MULTIPLE_DOCUMENTS = "VG114" Error "multiple_documents"
        summary "The file holds more than one YAML document."
        why "One file defines one item; extra documents would be silently dropped by other tools."
        example "---\nid: ...\n---\nid: ...";
    SCHEMA_VIOLATION = "VG115" Error "schema_violation"
        summary "A value breaks a rule of the definition's JSON Schema (length, pattern, range)."
        why "The generated schema in schemas/ states what each field may hold."
        example "triggerThreshold: -1";
    UNKNOWN_RULE_KIND = "VG116" Error "unknown_rule_kind"
        summary "The rule's kind is not Scheduled or NRT."
        why "vigil deploys Scheduled and NRT analytics rules; other kinds are managed by Microsoft templates."
        example "kind: Fusion";
    UNSUPPORTED_YAML = "VG117" Warning "unsupported_yaml"
        summary "A YAML feature that definitions do not need (an unknown tag or a non-string key)."
        why "Such features are read as plain values, which may not be what the author meant."
        example "query: !include query.kql";
    INVISIBLE_CHARACTER = "VG118" Error "invisible_character"
        summary "A name, id or other text field holds a zero-width or bidirectional control character."
        why "Such characters make a diff read differently from what deploys (Trojan Source): a name that looks like another, text that reorders itself on screen."
        example "name: \"Admin\\u200blogin\"";

    DURATION_SYNTAX = "VG201" Error "duration_syntax"
        summary "A duration is neither `<n>m`/`<n>h`/`<n>d`, an ISO-8601 duration nor a .NET TimeSpan."
        why "Sentinel stores durations as ISO-8601; vigil converts from the short forms only when it can read them."
        example "queryFrequency: 1 hour";
    FREQUENCY_RANGE = "VG202" Error "frequency_out_of_range"
        summary "queryFrequency is outside 5 minutes to 14 days."
        why "Sentinel rejects scheduled rules that run more often than every 5 minutes or less often than every 14 days."
        example "queryFrequency: 1m";
    PERIOD_RANGE = "VG203" Error "period_out_of_range"
        summary "queryPeriod is outside 5 minutes to 14 days."
        why "Sentinel cannot look back further than 14 days in a scheduled rule."
        example "queryPeriod: P180D";
    PERIOD_BELOW_FREQUENCY = "VG204" Error "period_below_frequency"
        summary "queryPeriod is shorter than queryFrequency."
        why "Events between two runs would never be queried."
        example "queryFrequency: 1h\nqueryPeriod: 30m";
    LONG_PERIOD_FAST_FREQUENCY = "VG205" Error "long_period_fast_frequency"
        summary "A queryPeriod of 2 days or more needs a queryFrequency of at least 1 hour."
        why "Sentinel's limit: long look-backs may run at most hourly."
        example "queryFrequency: 5m\nqueryPeriod: 2d";
    SUPPRESSION_RANGE = "VG206" Error "suppression_out_of_range"
        summary "suppressionDuration is outside 5 minutes to 24 hours."
        why "Sentinel suppresses a rule for at most 24 hours after it fires."
        example "suppressionDuration: 2d";
    LOOKBACK_RANGE = "VG207" Error "grouping_lookback_out_of_range"
        summary "incidentConfiguration.groupingConfiguration.lookbackDuration is outside 5 minutes to 7 days."
        why "Sentinel groups alerts into incidents over at most 7 days."
        example "lookbackDuration: 14d";
    NRT_IGNORED_KEY = "VG208" Warning "nrt_ignored_key"
        summary "An NRT rule carries scheduling keys; NRT rules run every minute and trigger on any result, so they are ignored."
        why "The NRT API has no queryFrequency, queryPeriod, triggerOperator or triggerThreshold."
        example "kind: NRT\nqueryFrequency: 5m";
    TOO_MANY_NRT = "VG209" Error "too_many_nrt_rules"
        summary "More than 50 NRT rules in the repository."
        why "Sentinel allows at most 50 NRT rules per workspace."
        example "51 files with kind: NRT";
    ENTITY_MAPPING_COUNT = "VG210" Error "entity_mapping_count"
        summary "More than 10 entity mappings (error), or more than 5 (warning: the Azure-Sentinel repository validator's limit)."
        why "Sentinel accepts up to 10 entity mappings per rule."
        example "eleven entries under entityMappings";
    FIELD_MAPPING_COUNT = "VG211" Error "field_mapping_count"
        summary "An entity mapping has no identifiers or more than 3."
        why "Sentinel accepts 1 to 3 identifiers per entity mapping."
        example "fieldMappings: []";
    INVALID_IDENTIFIER = "VG212" Error "invalid_entity_identifier"
        summary "The identifier is not valid for this entity type."
        why "Sentinel rejects the rule at deploy time. Note the spellings: Account uses Sid, SecurityGroup uses SID."
        example "entityType: IP\nfieldMappings:\n  - identifier: IPAddress";
    REPEATED_IDENTIFIER = "VG213" Error "repeated_entity_identifier"
        summary "The same identifier appears twice in one entity mapping."
        why "Sentinel rejects duplicate identifiers in a mapping."
        example "two `identifier: Name` under one Account mapping";
    MISSING_REQUIRED_IDENTIFIER = "VG214" Error "missing_required_identifier"
        summary "The entity mapping lacks every identifier that can identify the entity on its own."
        why "Sentinel needs at least one strong identifier (for example Account needs FullName, Sid, Name, AadUserId, PUID or ObjectGuid)."
        example "entityType: Account\nfieldMappings:\n  - identifier: NTDomain";
    UNKNOWN_ENTITY_TYPE = "VG215" Error "unknown_entity_type"
        summary "The entity type is not one Sentinel knows."
        why "Sentinel rejects unknown entity types."
        example "entityType: User";
    INVALID_COLUMN_NAME = "VG216" Error "invalid_column_name"
        summary "A column name (in a mapping, custom detail or override) is not a valid identifier or is longer than 500 characters."
        why "Sentinel expects the name of a result column: letters, digits and underscores, not starting with a digit."
        example "columnName: Account Name";
    CUSTOM_DETAILS_COUNT = "VG217" Error "custom_details_count"
        summary "More than 20 custom details."
        why "Sentinel accepts up to 20 custom details per rule."
        example "21 keys under customDetails";
    CUSTOM_DETAILS_KEY = "VG218" Error "custom_details_key"
        summary "A custom detail key is longer than 20 characters or does not start with a letter and continue with letters, digits or underscores."
        why "Sentinel rejects such keys."
        example "customDetails:\n  1stSeen: FirstSeen";
    CUSTOM_DETAILS_VALUE = "VG219" Error "custom_details_value"
        summary "A custom detail value is not a column name."
        why "Custom detail values name result columns."
        example "customDetails:\n  Host: Computer Name";
    OVERRIDE_FORMAT = "VG220" Error "alert_details_override_format"
        summary "An alertDetailsOverride format is empty or too long (name 256, description 5000 characters)."
        why "Sentinel rejects such overrides."
        example "alertDisplayNameFormat: ''";
    OVERRIDE_PLACEHOLDERS = "VG221" Error "alert_details_override_placeholders"
        summary "An alertDetailsOverride format uses more than 3 `{{column}}` placeholders."
        why "Sentinel substitutes at most 3 columns per format."
        example "alertDisplayNameFormat: '{{A}} {{B}} {{C}} {{D}}'";
    QUERY_LENGTH = "VG222" Error "query_length"
        summary "The query is empty or longer than 10,000 characters."
        why "Sentinel stores at most 10,000 characters of query text in a rule."
        example "a query pasted twice";
    UNKNOWN_TACTIC = "VG223" Error "unknown_tactic"
        summary "A tactic that is not one of Sentinel's MITRE ATT&CK tactics."
        why "Sentinel rejects unknown tactics."
        example "tactics: [Exfil]";
    TECHNIQUE_ID = "VG224" Error "technique_id"
        summary "A technique id is not of the form T1234 or T1234.001."
        why "Sentinel and ATT&CK use these forms; others break the portal's MITRE view."
        example "relevantTechniques: [T12345]";
    VERSION_FORMAT = "VG225" Error "version_format"
        summary "The version is not X.Y.Z with numbers, or is longer than 20 characters."
        why "Sentinel templates use semantic versions; the Azure-Sentinel validator rejects others."
        example "version: 1.0";
    DUPLICATE_ID = "VG226" Error "duplicate_id"
        summary "Two definitions share one id."
        why "The id is the Sentinel resource name: the second would overwrite the first."
        example "two files with id: 2c55fe7a-...";
    DUPLICATE_NAME = "VG227" Error "duplicate_name"
        summary "Two definitions of one kind share a display name (a warning: Sentinel identifies rules by id), or two functions or two watchlists share an alias (an error: the alias is what queries call)."
        why "Analysts cannot tell two rules of the same name apart in the incident queue; two aliases that collide make one definition overwrite or shadow the other. Sentinel accepts repeated rule display names, so vigil warns unless [lints] raises it."
        example "two rules named 'Suspicious sign-in'";
    ID_NOT_GUID = "VG228" Error "id_not_guid"
        summary "The id is not a GUID."
        why "The id becomes the Sentinel resource name; GUIDs keep export and re-import round-tripping and are what the Azure-Sentinel validator requires."
        example "id: my-rule";
    TEXT_TOO_LONG = "VG229" Error "text_too_long"
        summary "A name is longer than 256 characters or a description longer than 5000."
        why "Sentinel's limits on displayName and description."
        example "a description that pastes a whole threat report";
    TRIGGER_THRESHOLD_RANGE = "VG230" Error "trigger_threshold_range"
        summary "triggerThreshold is outside 0 to 10000."
        why "The Azure-Sentinel validator and the portal accept 0 to 10000."
        example "triggerThreshold: 20000";
    GROUPING_NOTHING_SELECTED = "VG231" Error "grouping_nothing_selected"
        summary "Incident grouping uses matchingMethod Selected but selects no entities, alert details or custom details."
        why "Sentinel rejects the rule: with Selected, at least one group-by list must be non-empty."
        example "matchingMethod: Selected";
    GROUPING_REFERENCE = "VG232" Error "grouping_reference"
        summary "Incident grouping refers to an entity type that the rule does not map, or a custom detail it does not define."
        why "Sentinel only groups by entities and custom details that the rule produces."
        example "groupByEntities: [Host] in a rule mapping only Account";
    LEGACY_CUSTOM_ENTITY = "VG233" Warning "legacy_custom_entity"
        summary "The query produces a legacy `*CustomEntity` column that no entity mapping uses."
        why "Those columns were mapped implicitly in old rules; today only entityMappings map entities, so the entity is lost. Sentinel accepts the rule, so this is a warning (older Azure-Sentinel validators made it an error)."
        example "extend AccountCustomEntity = UserPrincipalName, with no entityMappings";
    WATCHLIST_CONTENT = "VG234" Error "watchlist_content"
        summary "The watchlist's items are missing or inconsistent (CSV file absent or malformed, search key not a column, rows of unequal width)."
        why "Sentinel rejects the upload, or _GetWatchlist returns rows without the key the rules join on."
        example "itemsSearchKey: Hostname with a CSV whose header is Host,Owner";
    FUNCTION_SIGNATURE = "VG235" Error "function_signature"
        summary "A function's alias or parameters are malformed."
        why "The alias is how queries call the function; parameters must be `name:type` with an optional default."
        example "functionAlias: my parser";
    ANOMALY_SETTINGS = "VG236" Error "anomaly_settings"
        summary "An anomaly setting is inconsistent (for example a customized copy marked as default)."
        why "Sentinel keeps the built-in default settings read-only; tuning happens on a copy."
        example "isDefaultSettings: true with changed customizableObservations";
    ENVIRONMENT_OVERRIDE = "VG238" Error "environment_override"
        summary "A per-environment override is invalid or names an environment that vigil.toml does not define."
        why "An override for a misspelled environment never applies."
        example "environments:\n  prdo:\n    enabled: true";
    DEPRECATED_ENTITY_LIMIT = "VG239" Warning "entity_mapping_count_validator"
        summary "More than 5 entity mappings: Sentinel accepts up to 10, the Azure-Sentinel repository validator only 5."
        why "Content meant for the Azure-Sentinel repository must stay within 5."
        example "six entries under entityMappings";

    PROVENANCE_FORMAT = "VG301" Error "provenance_format"
        summary "A provenance or review field is malformed (hash not 64 hex digits, timestamp not RFC 3339, empty source)."
        why "Provenance is evidence; malformed evidence cannot be checked later."
        example "prompt_sha256: abc";
    DESCRIPTION_WITH_FOOTER_TOO_LONG = "VG302" Error "description_with_footer_too_long"
        summary "With vigil's provenance footer added, the description exceeds Sentinel's 5000 characters."
        why "vigil appends who drafted and approved the item to its description; the whole must fit."
        example "a 4990-character description on an AI-drafted rule";

    COMBINED_TEMPLATE_LIMIT = "VG401" Error "template_limit"
        summary "One resource alone exceeds ARM's template size limit (4 MB)."
        why "ARM rejects templates over 4 MB; vigil splits combined templates, but cannot split one resource."
        example "a watchlist with a 5 MB CSV";
    UNKNOWN_ENVIRONMENT = "VG402" Error "unknown_environment"
        summary "The environment passed to --env is not defined."
        why "vigil applies per-environment overrides only for environments vigil.toml (or the definitions) name."
        example "vigil compile --env prdo";
    CONFIG_ERROR = "VG403" Error "config_error"
        summary "vigil.toml is malformed or has a wrong value."
        why "vigil cannot run with a configuration it does not understand."
        example "[content]\nrules = 'detections'";

    KQL_SYNTAX = "KQL101" Error "kql_syntax"
        summary "The query does not parse: a token is missing or unexpected."
        why "Sentinel rejects the rule at deploy time (SYN0001) or the hunt fails when run."
        example "SigninLogs | where ResultType == | take 10";
    KQL_LEXICAL = "KQL102" Error "kql_lexical"
        summary "A string is not closed, or a character cannot appear in a query."
        why "Kusto cannot tokenize the query."
        example "T | where Name == 'unclosed";
    KQL_TOO_DEEP = "KQL103" Error "kql_too_deep"
        summary "The query nests deeper than vigil's limit (200 levels)."
        why "Such queries are machine-generated or malicious; vigil refuses them instead of risking a stack overflow."
        example "print ((((((...1))))))";
    KQL_UNKNOWN_OPERATOR = "KQL104" Error "kql_unknown_operator"
        summary "The name after `|` is not a tabular operator."
        why "Usually a typo (`wher`, `projet`) or a function used as an operator."
        example "T | wher x > 1";

    KQL_UNKNOWN_NAME = "KQL201" Error "kql_unknown_name"
        summary "A name that is not a column of the rows at that point, nor a variable, table or function."
        why "Sentinel rejects the query at deploy time (SEM0100); usually a misspelt column, or one dropped by an earlier project."
        example "SigninLogs | project IPAddress | where UserPrincipalName has 'admin'";
    KQL_UNKNOWN_TABLE = "KQL202" Error "kql_unknown_table"
        summary "A table, tabular variable or function that the catalog does not know."
        why "Sentinel rejects the rule: \"One of the tables does not exist\". Custom tables (`*_CL`) must be declared (or the check turned down with [lints])."
        example "SigninLog | take 10";
    KQL_UNKNOWN_FUNCTION = "KQL203" Error "kql_unknown_function"
        summary "A call of a function that is neither built in, stored in the workspace, nor defined with let."
        why "Sentinel rejects the query; often a typo or a Defender-only function."
        example "extend x = tolowr(Name)";
    KQL_ARGUMENT_COUNT = "KQL204" Error "kql_argument_count"
        summary "A function called with the wrong number of arguments."
        why "Kusto rejects the call."
        example "extend x = substring(Name)";
    KQL_JOIN_COLUMN = "KQL205" Error "kql_join_column"
        summary "A join key that does not exist on both sides."
        why "Kusto rejects the join."
        example "T1 | join T2 on KeyOnlyInT1";
    KQL_DUPLICATE_LET = "KQL207" Error "kql_duplicate_let"
        summary "The same name is declared twice with let in one scope."
        why "Kusto rejects the query; usually a pasted block."
        example "let w = 10d;\nlet w = 10d;";
    KQL_TYPE_MISMATCH = "KQL208" Error "kql_type_mismatch"
        summary "An operation on values of types it does not accept (ordering a string against a number, grouping by a dynamic value)."
        why "Kusto rejects the query at bind time."
        example "where HttpStatusCode >= 500  // HttpStatusCode is a string";
    KQL_UNKNOWN_WATCHLIST = "KQL210" Note "unknown_watchlist"
        summary "`_GetWatchlist('alias')` names a watchlist the repository does not define: its columns are not checked."
        why "The watchlist may be managed in the workspace directly; vigil knows the columns only of watchlists defined under watchlists/, and says so rather than guess."
        example "_GetWatchlist('VIPUsers') | project ['User Principal Name']";
    KQL_OPERATOR_POSITION = "KQL209" Error "kql_operator_position"
        summary "A tabular operator that needs input rows (where, project, mv-expand, ...) starts a query or statement."
        why "Kusto rejects it at bind time (\"the operator cannot be the first operator in a query\"); usually a `|` turned into `;` or a lost first line."
        example "SecurityEvent;\nwhere EventID == 4625";
    KQL_RESULT_COLUMN = "KQL206" Error "kql_result_column"
        summary "An entity mapping, custom detail or alert details override names a column that the query does not output."
        why "Sentinel checks it only at deploy time and rejects the rule; vigil knows the query's result columns."
        example "columnName: AccountName with a query that projects UserPrincipalName only";

    KQL_SEARCH_STAR = "KQL301" Error "search_or_union_star"
        summary "The query uses `search *` or `union *` (an error in rules, a warning in hunts)."
        why "Sentinel rejects analytics rules that contain them; in hunts they scan every table of the workspace."
        example "union * | where Account == 'x'";
    KQL_CONTAINS_HAS = "KQL302" Note "contains_where_has_serves"
        summary "`contains` with a whole word, where `has` would use the term index."
        why "`has` is much faster than `contains`, and `contains` also matches inside longer words."
        example "where CommandLine contains \"mimikatz\"";
    KQL_INVALID_REGEX = "KQL303" Error "invalid_regex"
        summary "A literal regular expression that RE2, Kusto's regex engine, rejects (lookaround, backreferences, `(?x)`, counts over 1,000, malformed classes), with RE2's own message."
        why "Sentinel fails the query when it runs. vigil follows RE2's parser exactly (differential test against google-re2: tests/regex_re2.rs), so valid RE2 such as `[[]` or `a{,3}` passes."
        example "extract(@\"(?<=user=)\\w+\", 0, Msg)";
    KQL_HUNT_NO_TIME_FILTER = "KQL304" Warning "hunt_without_time_filter"
        summary "A hunting query that never filters on time."
        why "Outside the portal's time picker it reads the whole retention period: slow and expensive."
        example "SecurityEvent | where EventID == 4688";
    KQL_JOIN_NO_TIME_BOUND = "KQL305" Warning "join_without_time_bound"
        summary "The right side of a join or lookup reads a table without a time filter."
        why "It scans the table's whole retention: slow, costly, and rules can time out."
        example "T | join (SigninLogs | where ResultType == 0) on UserPrincipalName";
    KQL_ASSIGNMENT_AS_COMPARISON = "KQL306" Warning "assignment_as_comparison"
        summary "`=` used to compare; write `==`."
        why "Kusto reads `where a = x` as a predicate named `a` whose value is `x`: the query fails to bind (KQL208) or, with a bool value, ignores `a`. It is a common slip."
        example "where ActingProcessName = \"cmd.exe\"";
    KQL_CROSS_RESOURCE = "KQL307" Warning "cross_resource_query"
        summary "The query reads outside the workspace (workspace(), app(), resource(), externaldata, ...)."
        why "External data is outside the repository's review, and NRT rules cannot query other workspaces."
        example "externaldata(ip:string)[\"https://example.org/list.csv\"]";
    KQL_FILTER_AFTER_EXPENSIVE = "KQL308" Warning "filter_after_expensive_operator"
        summary "A time filter that comes after an expensive operator (join, lookup, mv-expand, mv-apply, parse, sort) in the same pipeline."
        why "Kusto runs operators in order: the expensive one reads the table's whole retention before the filter drops most rows. Filtering first gives the same result and can keep a rule from timing out."
        example "SecurityEvent | mv-expand d = parse_json(EventData) | where TimeGenerated > ago(1d)";
    KQL_INVISIBLE_CHARACTER = "KQL309" Error "invisible_character_in_query"
        summary "The query holds a zero-width or bidirectional control character (in a name, a string or a comment)."
        why "The diff a reviewer reads is not what runs (Trojan Source): a bidi override reorders text on screen, a zero-width space makes two names look alike. An error in rules and hunts, a warning elsewhere."
        example "| where UserPrincipalName != \"admin\\u202e@contoso.com\"";

    DEP_REQUEST_FAILED = "DEP001" Error "deploy_request_failed"
        summary "A request to Azure (or the emulator) failed after retries; the message names the request and its request id."
        why "vigil retries throttling, server errors and dropped connections; what is left is a real refusal (validation, permissions) or an unreachable endpoint, and the apply restores what it changed."
        example "PUT .../alertRules/9b1c...: 400 BadRequest: Failed to run the analytics rule query. One of the tables does not exist. (request id 4f0e...)";
    DEP_TOO_MANY_DELETIONS = "DEP002" Error "too_many_deletions"
        summary "The plan deletes more resources than the environment allows per apply (`max_deletions`); nothing was changed."
        why "An empty or partial checkout must never wipe a production workspace; a large deletion has to be asked for explicitly."
        example "a CI job that checked out the wrong folder plans to delete all 240 rules";
    DEP_CONFLICT = "DEP003" Error "concurrent_change"
        summary "A resource changed between plan and apply (its etag no longer matches)."
        why "vigil sends the etag it planned against, so it never overwrites a change it has not shown you."
        example "an analyst edits a rule in the portal while the release job runs";
    DEP_VERIFY_FAILED = "DEP004" Error "read_back_mismatch"
        summary "After the apply, a resource read back differs from what was sent."
        why "The service can drop or rewrite properties (an api-version that does not know a field); a deploy is only done when the workspace holds what git says."
        example "subTechniques sent with a stable api-version and silently dropped";
    DEP_RECORD = "DEP005" Error "deployment_record"
        summary "The deployment record could not be written to a workspace; no change was made."
        why "Without a record of the prior state vigil could not restore or roll back, so it does not start."
        example "the principal may write alert rules but not saved searches";
    DEP_RECOVERY_FAILED = "DEP006" Error "recovery_failed"
        summary "An earlier deployment was interrupted and restoring its prior state failed."
        why "A workspace must end all-new or all-old; vigil finishes the restore before any new change, and retries it on the next run."
        example "a job killed mid-apply, re-run while the workspace is throttling";
    DEP_UNKNOWN_DEPLOYMENT = "DEP007" Error "unknown_deployment"
        summary "`rollback --to` names no deployment record of this environment."
        why "Rollback restores the prior state recorded by a deployment; the hint lists recent ones."
        example "vigil rollback --env prod --to 20260101T000000Z-abcdef";
    DEP_WORKSPACE_BINDING = "DEP008" Error "workspace_binding"
        summary "A rule does not bind against the catalog of a workspace it deploys to (a table or column that workspace lacks)."
        why "Sentinel compiles the query on PUT; a rule that works in one workspace fails in another that lacks the data source, so the plan fails instead of the deploy."
        example "a rule reading IdentityInfo deployed to a workspace without UEBA";
    DEP_BASE_NOT_FETCHED = "DEP009" Error "base_not_fetched"
        summary "The base ref of `vigil changed` is not in this clone (a shallow clone)."
        why "A shallow CI checkout holds only the head commit; comparing needs the base commit too."
        example "actions/checkout with the default fetch-depth: 1";
    DEP_GIT = "DEP010" Error "git_error"
        summary "A git ref or repository could not be read."
        why "plan, apply, rollback --to REF and changed read content at a ref through git; a typo in the ref or a folder that is not a repository stops them."
        example "vigil plan --env prod --ref mian";
    DEP_ENVIRONMENT = "DEP011" Error "environment_config"
        summary "An environment is missing from vigil.toml or is malformed."
        why "Deploy commands need to know which workspaces an environment targets."
        example "[environments.prod] without any [[environments.prod.workspaces]]";
    DEP_CREDENTIAL = "DEP012" Error "credential"
        summary "No usable Azure credential could be set up from the environment variables."
        why "vigil picks a credential from environment variables (see README, Deploy); a half-configured one (a client id without a tenant) is an error, not a silent fallback."
        example "ACTIONS_ID_TOKEN_REQUEST_URL set but AZURE_TENANT_ID missing";
    DEP_RECOVERED = "DEP013" Warning "interrupted_deployment_restored"
        summary "An interrupted deployment was found and restored to its prior state before this run."
        why "After a kill or a lost runner, a workspace may be half-deployed; the next run first makes it all-old again."
        example "a release job cancelled in the middle of an apply";

    STALE_APPROVAL = "POL001" Error "stale_approval"
        summary "Approval is stale: the query changed after review (review.query_sha256 differs from `vigil hash`)."
        why "A review approves one exact query; any later edit needs a new review."
        example "review.query_sha256 computed before the last edit of query";
    AI_PROVENANCE_INCOMPLETE = "POL002" Error "ai_provenance_incomplete"
        summary "AI-drafted content (`provenance.origin: ai`) lacks model, model_version, prompt_sha256, generated_at or a source."
        why "Without them nobody can tell later which model wrote a rule from which prompt and material, or re-check it when a model is found to be flawed."
        example "provenance:\n  origin: ai\n  model: gpt-5   # no model_version, prompt_sha256, generated_at, sources";
    MODEL_NOT_ALLOWED = "POL003" Error "model_not_allowed"
        summary "AI content names a model that `[policy] models` does not allow."
        why "Teams approve the models they trust to draft detections; content from others needs a decision first."
        example "provenance.model: some-local-model   # [policy] models = [\"gpt-5*\"]";
    CROSS_RESOURCE_NOT_ALLOWED = "POL004" Error "cross_resource_not_allowed"
        summary "AI content reads another workspace, app, resource or URL that `[policy] cross_resource` does not allow."
        why "A query that reaches outside the workspace can read or send data nobody reviewed; AI drafts must stay inside what the team allowed."
        example "workspace('finance-prod').SigninLogs   # [policy] cross_resource = []";
    DENIED_CONSTRUCT = "POL005" Error "denied_construct"
        summary "AI content uses a KQL construct that `[policy] ai_denied` forbids (by default externaldata and the plugins that reach the network or run code)."
        why "These constructs fetch data from URLs or run code; an AI draft should never bring them in unnoticed."
        example "externaldata(ip:string)[\"https://example.org/list.csv\"]   # in an AI-drafted rule";
    REVIEW_REQUIRED = "POL006" Error "review_required"
        summary "The definition needs a `review:` block (`[policy.review] required_for`, AI content by default)."
        why "AI-drafted queries reach production only after a named human approved the exact query."
        example "provenance:\n  origin: ai\n...   # and no review: approved_by / query_sha256";
    AI_ENTRY_NOT_SHADOW = "POL007" Error "ai_entry_not_shadow"
        summary "New AI-drafted content must enter as `rollout: shadow` (in every environment)."
        why "Shadow rules raise Informational alerts without incidents, so the team sees real alert volume before anyone is paged."
        example "a new AI-drafted rule with rollout: active";
    PROMOTION_WITHOUT_EVIDENCE = "POL008" Error "promotion_without_evidence"
        summary "AI content is promoted to canary or active without shadow evidence: its shadow alert count over the minimum window, under the budget (`[policy.rollout]`)."
        why "Promotion should follow what the rule really did in shadow, not a guess: too many alerts means tuning first."
        example "rollout: shadow -> rollout: active with no evidence, 3 days of shadow, or 40 alerts/day";
    CANARY_SCOPE = "POL009" Error "canary_scope"
        summary "A canary rollout cannot be scoped: no entity mapping of a canary entity type, or the scoped query does not bind."
        why "Canary rules run only for the entities of the canary watchlist; vigil compiles that scope into the query and needs a column to scope by."
        example "rollout: canary on a rule with only a URL entity mapping ([policy.rollout] canary_entities = [Account, Host, IP])";
    REVIEW_NOT_CONFIRMED = "POL010" Error "review_not_confirmed"
        summary "A `review.approved_by` login has no approving review of the pull request on its head commit by an allowed reviewer other than the author and the generator."
        why "The YAML field is typed by the pull request's author; only GitHub's review record proves that the named person approved this exact commit."
        example "review.approved_by: [alice] while alice approved an earlier commit, or never reviewed";
    TRUSTED_CONFIG_CHANGE = "POL011" Warning "trusted_config_change"
        summary "The pull request changes a key of vigil.toml that decides trust (`[policy]`, `[environments]`, `[content]`, `[validate]`, `[project]`, the alert budget, the severity of a protected code); the trusted configuration's value applies until the change is merged."
        why "A pull request must not lower its own gate: policy, environments and budgets come from the base branch (or the workflow), so the change is shown for review, not applied."
        example "[lints] POL006 = \"off\" in the pull request's vigil.toml";
    AI_RELABEL = "POL012" Error "ai_relabel"
        summary "A definition that was AI-drafted at the base changes or drops its provenance without a confirmed takeover (`provenance.rewritten_by` and a review confirmed on GitHub): it stays AI-governed."
        why "Relabelling AI content as human would skip review and shadow-first rollout; a deliberate takeover is recorded and approved."
        example "origin: ai -> origin: human, review deleted, rollout: active";
    GUARD_CLEARED_WITHOUT_REVIEW = "POL013" Error "guard_cleared_without_review"
        summary "A pull request removes the `guard_trip:` that `vigil guard` wrote (re-enabling or re-promoting a rule its circuit breaker stopped) without a review confirmed on GitHub."
        why "The guard demoted or disabled the rule because of what it did in production; turning it back on is a decision a reviewer approves, not a side effect of an edit. Guard-written fields alone need no review."
        example "environments.prod.guard_trip deleted and rollout: shadow -> active";
    GATE_TEST_FAILED = "GATE001" Error "gate_test_failed"
        summary "A detection test of a changed rule failed in the gate (`x.tests.yaml` beside the rule)."
        why "The tests are the rule's contract: an expected alert that no longer fires, or one that fires on benign data, must not merge unnoticed."
        example "expect: { alerts: 1 } and the changed query raises none";
    GATE_DRY_RUN_FAILED = "GATE002" Error "gate_dry_run_failed"
        summary "A changed rule's dry-run over the sandbox raises more alerts per day than `[sandbox] alert_budget_per_day`, or its query fails on the engine."
        why "Alert volume is what analysts pay for: a rule that would flood the queue is tuned before it merges, and a query vigil cannot run is never reported as fine."
        example "a rule without a threshold firing 40 times a day over a budget of 10";
    GATE_PLAN_FAILED = "GATE003" Error "gate_plan_failed"
        summary "The plan against the target environment failed for a changed definition (it does not bind against the workspace, or the workspace could not be read)."
        why "The trusted stage proves the change can be deployed where it is going, before it merges."
        example "a rule reading a table the staging workspace does not have";
    GATE_UNLOADABLE = "GATE004" Error "gate_unloadable_file"
        summary "A content file present at the head of the pull request cannot be loaded into a definition."
        why "A file the gate cannot read is not a file the gate has judged: passing it would let a broken or hostile file through as if it had been deleted."
        example "a modified rule with `severity: Bogus`, or a new file that is only a YAML error";
    GATE_COST_OVER_LIMIT = "GATE005" Error "gate_cost_over_limit"
        summary "A changed rule's projected data scanned per day (one run measured through the environment's query API with statistics, times its runs per day) exceeds `[policy] max_scanned_gb_per_day`."
        why "Basic and Auxiliary tables are charged per GB a query scans, and every scheduled run scans again: a rule's daily scan is a cost the team agrees to before it merges."
        example "a 5-minute rule scanning 2 GB per run: 576 GB a day over a limit of 100";
}

/// The Markdown reference of every diagnostic code (committed as docs/diagnostics.md).
pub fn markdown() -> String {
    use std::fmt::Write as _;
    let mut s = String::from(
        "# vigil diagnostics\n\n<!-- Generated by `vigil debug codes --markdown`; do not edit. -->\n\n\
         Every diagnostic has a stable code. Prefixes: `VG0xx` files, `VG1xx` YAML and the content model, \
         `VG2xx` Sentinel's limits, `VG3xx` provenance, `VG4xx` compilation, `DEP` deploy, `POL` policy, `GATE` the gate's stages (tests, dry-run, plan).\n\n\
         | code | name | default | summary |\n|---|---|---|---|\n",
    );
    for c in CATALOG {
        let _ = writeln!(
            s,
            "| [{}](#{}) | `{}` | {} | {} |",
            c.code,
            c.code.to_lowercase(),
            c.name,
            c.default_severity.as_str(),
            c.summary.replace('|', "\\|")
        );
    }
    for c in CATALOG {
        let _ = write!(
            s,
            "\n## {}\n\n`{}` ({})\n\n{}\n\n**Why:** {}\n\n**Example:**\n\n```yaml\n{}\n```\n",
            c.code,
            c.name,
            match c.default_severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            },
            c.summary,
            c.why,
            c.example
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sorted_within_prefix() {
        let mut seen = std::collections::BTreeSet::new();
        for c in CATALOG {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
            assert!(!c.summary.is_empty() && !c.why.is_empty());
        }
    }
}
