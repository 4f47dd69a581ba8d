// Policies: HTTP request/response/security rules, L4 connection rules, datascripts, string groups.
import { Type, type Static } from '@sinclair/typebox';
import { Obj, Enum, Ref, RefList, Int, Port, Bool, Opt, IpAddr, IpAddrPrefix, IpAddrRange, KeyValue, base, checksum } from '../schema.js';

const StringMatchCriteria = Enum(['BEGINS_WITH', 'DOES_NOT_BEGIN_WITH', 'CONTAINS', 'DOES_NOT_CONTAIN', 'ENDS_WITH', 'DOES_NOT_END_WITH', 'EQUALS', 'DOES_NOT_EQUAL', 'REGEX_MATCH', 'REGEX_DOES_NOT_MATCH'], { default: 'CONTAINS' });
const HdrMatchCriteria = Enum(['HDR_EXISTS', 'HDR_DOES_NOT_EXIST', 'HDR_BEGINS_WITH', 'HDR_DOES_NOT_BEGIN_WITH', 'HDR_CONTAINS', 'HDR_DOES_NOT_CONTAIN', 'HDR_ENDS_WITH', 'HDR_DOES_NOT_END_WITH', 'HDR_EQUALS', 'HDR_DOES_NOT_EQUAL']);
const MatchCase = Enum(['SENSITIVE', 'INSENSITIVE'], { default: 'INSENSITIVE' });
const IsIn = Enum(['IS_IN', 'IS_NOT_IN']);

export const PathMatch = Obj({
  match_criteria: StringMatchCriteria,
  match_case: Opt(MatchCase),
  match_str: Opt(Type.Array(Type.String())),
  string_group_refs: Opt(RefList('stringgroup')),
  match_decoded_string: Opt(Bool(true)),
});
export const HostHdrMatch = Obj({ match_criteria: HdrMatchCriteria, match_case: Opt(MatchCase), value: Opt(Type.Array(Type.String())) });
export const HdrMatch = Obj({ hdr: Type.String({ minLength: 1 }), match_criteria: HdrMatchCriteria, match_case: Opt(MatchCase), value: Opt(Type.Array(Type.String())) });
export const PortMatch = Obj({ match_criteria: IsIn, ports: Opt(Type.Array(Port())), port_ranges: Opt(Type.Array(Obj({ start: Port(), end: Port() }))) });
export const MethodMatch = Obj({
  match_criteria: IsIn,
  methods: Type.Array(Enum(['HTTP_METHOD_GET', 'HTTP_METHOD_HEAD', 'HTTP_METHOD_PUT', 'HTTP_METHOD_DELETE', 'HTTP_METHOD_POST', 'HTTP_METHOD_OPTIONS', 'HTTP_METHOD_TRACE', 'HTTP_METHOD_CONNECT', 'HTTP_METHOD_PATCH'])),
});
export const QueryMatch = Obj({ match_criteria: Enum(['QUERY_MATCH_CONTAINS', 'QUERY_MATCH_EXISTS', 'QUERY_MATCH_DOES_NOT_EXIST', 'QUERY_MATCH_EQUALS']), match_case: Opt(MatchCase), match_str: Opt(Type.Array(Type.String())), string_group_refs: Opt(RefList('stringgroup')) });
export const IpAddrMatch = Obj({ match_criteria: IsIn, addrs: Opt(Type.Array(IpAddr)), prefixes: Opt(Type.Array(IpAddrPrefix)), ranges: Opt(Type.Array(IpAddrRange)), group_refs: Opt(Type.Array(Type.String())) });
export const CookieMatch = Obj({ key: Type.String({ minLength: 1 }), match_criteria: HdrMatchCriteria, match_case: Opt(MatchCase), value: Opt(Type.String()) });

/** Avi match fields Portico refuses with a reason (validate.ts names the field and says why). */
const UNSUPPORTED_MATCHES = {
  'x-unsupported': {
    geo_matches: 'geo matching needs a geo database, which Portico does not have; match client_ip with an ipaddrgroup instead',
    ip_reputation_type: 'IP reputation needs a reputation database, which Portico does not have',
    bot_detection_result: 'bot detection is not supported',
  },
};

export const MatchTarget = Obj({
  path: Opt(PathMatch),
  host_hdr: Opt(HostHdrMatch),
  vs_port: Opt(PortMatch),
  hdrs: Opt(Type.Array(HdrMatch)),
  cookie: Opt(CookieMatch),
  method: Opt(MethodMatch),
  query: Opt(QueryMatch),
  protocol: Opt(Obj({ match_criteria: IsIn, protocols: Enum(['HTTP', 'HTTPS']) })),
  client_ip: Opt(IpAddrMatch),
  source_ip: Opt(IpAddrMatch),
  version: Opt(Obj({ match_criteria: IsIn, versions: Type.Array(Enum(['ZERO_NINE', 'ONE_ZERO', 'ONE_ONE', 'TWO_ZERO'])) })),
}, UNSUPPORTED_MATCHES);

const UriToken = Obj({
  type: Enum(['URI_TOKEN_TYPE_HOST', 'URI_TOKEN_TYPE_PATH', 'URI_TOKEN_TYPE_STRING', 'URI_TOKEN_TYPE_STRING_GROUP', 'URI_TOKEN_TYPE_REGEX', 'URI_TOKEN_TYPE_REGEX_QUERY']),
  str_value: Opt(Type.String()),
  start_index: Opt(Int(0, 65535)),
  end_index: Opt(Int(0, 65535)),
});
const UriParam = Obj({ type: Enum(['URI_PARAM_TYPE_TOKENIZED']), tokens: Opt(Type.Array(UriToken)) });

export const SwitchingAction = Obj({
  action: Enum(['HTTP_SWITCHING_SELECT_POOL', 'HTTP_SWITCHING_SELECT_POOLGROUP', 'HTTP_SWITCHING_SELECT_LOCAL']),
  pool_ref: Opt(Ref('pool')),
  pool_group_ref: Opt(Ref('poolgroup')),
  status_code: Opt(Enum(['HTTP_LOCAL_RESPONSE_STATUS_CODE_200', 'HTTP_LOCAL_RESPONSE_STATUS_CODE_204', 'HTTP_LOCAL_RESPONSE_STATUS_CODE_403', 'HTTP_LOCAL_RESPONSE_STATUS_CODE_404', 'HTTP_LOCAL_RESPONSE_STATUS_CODE_429', 'HTTP_LOCAL_RESPONSE_STATUS_CODE_501'], { default: 'HTTP_LOCAL_RESPONSE_STATUS_CODE_200' })),
  file: Opt(Obj({ content_type: Type.String(), file_content: Opt(Type.String()), file_length: Opt(Type.Integer()) })),
  server: Opt(Obj({ ip: IpAddr, port: Opt(Port()) })),
});
export const RedirectAction = Obj({
  protocol: Enum(['HTTP', 'HTTPS']),
  port: Opt(Port()),
  status_code: Opt(Enum(['HTTP_REDIRECT_STATUS_CODE_301', 'HTTP_REDIRECT_STATUS_CODE_302', 'HTTP_REDIRECT_STATUS_CODE_307'], { default: 'HTTP_REDIRECT_STATUS_CODE_302' })),
  host: Opt(UriParam),
  path: Opt(UriParam),
  keep_query: Opt(Bool(true)),
  add_string: Opt(Type.String()),
});
// HTTPHdrValue.var; with HTTP_POLICY_VAR_HTTP_HDR, `val` names the header to copy. The SSL_CLIENT_*
// and USER_NAME variables are accepted but have no value on a Portico SE (the header is not written).
const PolicyVar = Enum([
  'HTTP_POLICY_VAR_CLIENT_IP', 'HTTP_POLICY_VAR_VS_PORT', 'HTTP_POLICY_VAR_VS_IP', 'HTTP_POLICY_VAR_HTTP_HDR', 'HTTP_POLICY_VAR_SSL_CLIENT_FINGERPRINT',
  'HTTP_POLICY_VAR_SSL_CLIENT_SERIAL', 'HTTP_POLICY_VAR_SSL_CLIENT_ISSUER', 'HTTP_POLICY_VAR_SSL_CLIENT_SUBJECT', 'HTTP_POLICY_VAR_SSL_CLIENT_RAW',
  'HTTP_POLICY_VAR_SSL_PROTOCOL', 'HTTP_POLICY_VAR_SSL_SERVER_NAME', 'HTTP_POLICY_VAR_USER_NAME', 'HTTP_POLICY_VAR_SSL_CIPHER', 'HTTP_POLICY_VAR_REQUEST_ID',
  'HTTP_POLICY_VAR_SSL_CLIENT_VERSION', 'HTTP_POLICY_VAR_SSL_CLIENT_SIGALG', 'HTTP_POLICY_VAR_SSL_CLIENT_NOTVALIDBEFORE', 'HTTP_POLICY_VAR_SSL_CLIENT_NOTVALIDAFTER',
  'HTTP_POLICY_VAR_SSL_CLIENT_ESCAPED', 'HTTP_POLICY_VAR_SOURCE_IP',
]);
// With `cookie`, the action works on that one cookie (Cookie on requests, Set-Cookie on responses).
export const HdrAction = Obj({
  action: Enum(['HTTP_ADD_HDR', 'HTTP_REMOVE_HDR', 'HTTP_REPLACE_HDR']),
  hdr: Opt(Obj({ name: Type.String({ minLength: 1 }), value: Opt(Obj({ val: Opt(Type.String()), var: Opt(PolicyVar), is_sensitive: Opt(Bool(false)) })) })),
  cookie: Opt(Obj({ name: Type.String({ minLength: 1, pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$" }), value: Opt(Type.String({ pattern: '^[^;\\r\\n]*$' })) })),
  hdr_index: Opt(Int(0, 4294967295)),
});
const LocHdrAction = Obj({ protocol: Enum(['HTTP', 'HTTPS']), port: Opt(Port()), host: Opt(UriParam), path: Opt(UriParam), keep_query: Opt(Bool(true)) });
const RewriteUrlAction = Obj({ host_hdr: Opt(UriParam), path: Opt(UriParam), query: Opt(Obj({ keep_query: Opt(Bool(true)), add_string: Opt(Type.String()) })) });

const ruleBase = { name: Type.String({ minLength: 1 }), index: Int(0, 1_000_000), enable: Opt(Bool(true)), match: Opt(MatchTarget), log: Opt(Bool(false)), all_headers: Opt(Bool(false)) };
export const HTTPRequestRule = Obj({
  ...ruleBase,
  switching_action: Opt(SwitchingAction),
  redirect_action: Opt(RedirectAction),
  hdr_action: Opt(Type.Array(HdrAction)),
  rewrite_url_action: Opt(RewriteUrlAction),
});
// Response rules also match the status and the response headers (Avi's ResponseMatchTarget).
const ResponseMatchTarget = Obj({
  ...MatchTarget.properties,
  status: Opt(Obj({ match_criteria: IsIn, status_codes: Opt(Type.Array(Int(100, 599))), ranges: Opt(Type.Array(Obj({ begin: Int(100, 599), end: Int(100, 599) }))) })),
  rsp_hdrs: Opt(Type.Array(HdrMatch)),
  loc_hdr: Opt(HostHdrMatch),
}, UNSUPPORTED_MATCHES);
export const HTTPResponseRule = Obj({ ...ruleBase, match: Opt(ResponseMatchTarget), hdr_action: Opt(Type.Array(HdrAction)), loc_hdr_action: Opt(LocHdrAction) });
export const HTTPSecurityRule = Obj({
  ...ruleBase,
  action: Opt(Obj({
    action: Enum(['HTTP_SECURITY_ACTION_CLOSE_CONN', 'HTTP_SECURITY_ACTION_SEND_RESPONSE', 'HTTP_SECURITY_ACTION_ALLOW', 'HTTP_SECURITY_ACTION_REDIRECT_TO_HTTPS', 'HTTP_SECURITY_ACTION_RATE_LIMIT', 'HTTP_SECURITY_ACTION_REQUEST_CHECK_ICAP']),
    https_port: Opt(Port()),
    status_code: Opt(Type.String()),
  })),
});

export const HTTPPolicySet = Obj({
  ...base, ...checksum,
  is_internal_policy: Opt(Bool(false)),
  http_request_policy: Opt(Obj({ rules: Opt(Type.Array(HTTPRequestRule)) })),
  http_response_policy: Opt(Obj({ rules: Opt(Type.Array(HTTPResponseRule)) })),
  http_security_policy: Opt(Obj({ rules: Opt(Type.Array(HTTPSecurityRule)) })),
});
export type HTTPPolicySet = Static<typeof HTTPPolicySet>;

export const L4Rule = Obj({
  name: Type.String({ minLength: 1 }),
  index: Int(0, 1_000_000),
  enable: Opt(Bool(true)),
  match: Opt(Obj({
    port: Opt(PortMatch),
    protocol: Opt(Obj({ match_criteria: IsIn, protocol: Enum(['PROTOCOL_TCP', 'PROTOCOL_UDP', 'PROTOCOL_ICMP', 'PROTOCOL_SCTP']) })),
    client_ip: Opt(IpAddrMatch),
  })),
  action: Opt(Obj({
    select_pool: Opt(Obj({
      action_type: Enum(['L4_RULE_ACTION_SELECT_POOL', 'L4_RULE_ACTION_SELECT_POOLGROUP']),
      pool_ref: Opt(Ref('pool')),
      pool_group_ref: Opt(Ref('poolgroup')),
    })),
  })),
});
export const L4PolicySet = Obj({
  ...base,
  is_internal_policy: Opt(Bool(false)),
  l4_connection_policy: Opt(Obj({ rules: Opt(Type.Array(L4Rule)) })),
});
export type L4PolicySet = Static<typeof L4PolicySet>;

export const VSDataScriptSet = Obj({
  ...base,
  datascript: Opt(Type.Array(Obj({
    evt: Enum(['VS_DATASCRIPT_EVT_HTTP_REQ', 'VS_DATASCRIPT_EVT_HTTP_RESP', 'VS_DATASCRIPT_EVT_HTTP_RESP_DATA', 'VS_DATASCRIPT_EVT_HTTP_REQ_DATA', 'VS_DATASCRIPT_EVT_L4_REQUEST', 'VS_DATASCRIPT_EVT_L4_RESPONSE', 'VS_DATASCRIPT_EVT_HTTP_LB_FAILED', 'VS_DATASCRIPT_EVT_TCP_CLIENT_ACCEPT', 'VS_DATASCRIPT_EVT_SSL_HANDSHAKE_DONE', 'VS_DATASCRIPT_EVT_DNS_REQ', 'VS_DATASCRIPT_EVT_DNS_RESP']),
    script: Type.String(),
  }))),
  pool_refs: Opt(RefList('pool')),
  pool_group_refs: Opt(RefList('poolgroup')),
  string_group_refs: Opt(RefList('stringgroup')),
  protocol_parser_refs: Opt(Type.Array(Type.String())),
});
export type VSDataScriptSet = Static<typeof VSDataScriptSet>;

export const StringGroup = Obj({
  ...base,
  type: Enum(['SG_TYPE_STRING', 'SG_TYPE_KEYVAL'], { default: 'SG_TYPE_STRING' }),
  kv: Opt(Type.Array(KeyValue)),
  longest_match: Opt(Bool(false)),
});
export type StringGroup = Static<typeof StringGroup>;
