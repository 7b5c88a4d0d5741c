// The Bulkhead policy language. docs/language.md is the reference.
//
// The grammar is deliberately permissive in the places where a precise message beats a
// syntax error: protocols, labels, property names, Qubes tokens, edge kinds and rpc
// parameters are parsed as plain names and checked by the resolver, which can say
// "did you mean". Generated with -no-listener -no-visitor; only compiler/src/parse sees it.
grammar Bulkhead;

file : statement* EOF ;

statement
    : policyHeader
    | importStmt
    | trustDecl
    | networkDecl
    | serviceDecl
    | rpcServiceDecl
    | qubeDecl
    | flowRule
    | rpcRule
    | assertion
    | requirement
    ;

policyHeader : POLICY STRING SEMI ;
importStmt   : IMPORT STRING SEMI ;

// trust untrusted = red < personal = yellow < work = blue;
trustDecl  : TRUST trustLevel (LT trustLevel)* SEMI ;
trustLevel : name (EQ label=name)? ;

// network corp = 198.51.100.0/24, 2001:db8::/32, lab;
networkDecl : NETWORK name EQ netItem (COMMA netItem)* SEMI ;
netItem     : address | name ;
address     : IPV4 | IPV6 ;

// service dns = udp/53, tcp/53 data both;
serviceDecl : SERVICE name EQ serviceItem (COMMA serviceItem)* (DATA direction=name)? SEMI ;
serviceItem : name (SLASH portItem (COMMA portItem)*)? ;
portItem    : INT (DASH INT)? ;

// rpc-service my.Sync data push;
rpcServiceDecl : RPC_SERVICE name DATA direction=name SEMI ;

// qube work { template fedora-40; trust work; netvm sys-firewall; ip 10.137.0.10; }
qubeDecl  : qubeKind name LBRACE property* RBRACE SEMI? ;
qubeKind  : TEMPLATE | QUBE | DISPVM_TEMPLATE | DISPOSABLE | STANDALONE
          | NETVM | FIREWALL | USBVM | VPN ;
property  : propertyName propertyValue (COMMA propertyValue)* SEMI ;
propertyName : name | TRUST ;
propertyValue : name | address | QUBES_TOKEN ;

// allow work -> internet : https, dns;    deny personal -> corp : any;
flowRule     : action=(ALLOW | DENY) endpointList ARROW endpointList COLON serviceList SEMI ;
endpointList : endpoint (COMMA endpoint)* ;
endpoint     : name | address | QUBES_TOKEN ;
serviceList  : serviceItem (COMMA serviceItem)* ;

// rpc qubes.Gpg work -> vault allow;   rpc qubes.Filecopy+ work -> @dispvm ask default_target=@dispvm;
rpcRule        : RPC rpcService rpcEndpointList ARROW rpcEndpointList
                 action=(ALLOW | DENY | ASK) rpcParam* SEMI ;
rpcService     : (name | STAR) RPCARG? ;
rpcEndpointList: rpcEndpoint (COMMA rpcEndpoint)* ;
rpcEndpoint    : name | QUBES_TOKEN | STAR ;
rpcParam       : key=name EQ (value=rpcEndpoint | NO) ;  // notify=no: 'no' is a keyword

// assert no path from trust < work to vault via rpc except rpc qubes.Gpg because "...";
// assert vault has no network;
assertion
    : ASSERT NO PATH FROM selectorList TO selectorList (VIA edgeKindList)? exceptClause* SEMI  # noPathAssertion
    | ASSERT selectorList HAS NO NETWORK SEMI                                                 # noNetworkAssertion
    ;
selectorList : selector (COMMA selector)* ;
selector
    : TRUST comparator? name   # trustSelector
    | name                     # nameSelector
    | QUBES_TOKEN              # tokenSelector
    ;
comparator   : LT | LE | GT | GE ;
edgeKindList : name (COMMA name)* ;
exceptClause : EXCEPT waiver (COMMA waiver)* (BECAUSE STRING)? ;
waiver
    : RPC rpcService (rpcEndpointList ARROW rpcEndpointList)?    # rpcWaiver
    | kind=name selector (ARROW selector)? (COLON serviceList)?  # edgeWaiver
    ;

// require work -> internet : https;   require rpc qubes.Gpg work -> vault;
requirement
    : REQUIRE RPC rpcService rpcEndpointList ARROW rpcEndpointList SEMI  # rpcRequirement
    | REQUIRE endpointList ARROW endpointList COLON serviceList SEMI    # netRequirement
    ;

// Keywords that never start a name-taking position may still be qube, service or level names.
name
    : NAME | TEMPLATE | QUBE | DISPVM_TEMPLATE | DISPOSABLE | STANDALONE | NETVM | FIREWALL
    | USBVM | VPN | NETWORK | SERVICE | RPC | RPC_SERVICE | DATA | PATH | HAS
    ;

// ---------------------------------------------------------------------------------------------
POLICY          : 'policy' ;
IMPORT          : 'import' ;
TRUST           : 'trust' ;
NETWORK         : 'network' ;
SERVICE         : 'service' ;
RPC_SERVICE     : 'rpc-service' ;
DATA            : 'data' ;
TEMPLATE        : 'template' ;
QUBE            : 'qube' ;
DISPVM_TEMPLATE : 'dispvm-template' ;
DISPOSABLE      : 'disposable' ;
STANDALONE      : 'standalone' ;
NETVM           : 'netvm' ;
FIREWALL        : 'firewall' ;
USBVM           : 'usbvm' ;
VPN             : 'vpn' ;
ALLOW           : 'allow' ;
DENY            : 'deny' ;
ASK             : 'ask' ;
RPC             : 'rpc' ;
ASSERT          : 'assert' ;
REQUIRE         : 'require' ;
NO              : 'no' ;
PATH            : 'path' ;
FROM            : 'from' ;
TO              : 'to' ;
VIA             : 'via' ;
EXCEPT          : 'except' ;
BECAUSE         : 'because' ;
HAS             : 'has' ;

ARROW  : '->' ;
LE     : '<=' ;
GE     : '>=' ;
LT     : '<' ;
GT     : '>' ;
EQ     : '=' ;
SEMI   : ';' ;
COMMA  : ',' ;
COLON  : ':' ;
SLASH  : '/' ;
DASH   : '-' ;
STAR   : '*' ;
LBRACE : '{' ;
RBRACE : '}' ;

// Addresses are validated by the resolver (inet_pton rules, prefix lengths).
IPV4 : DEC '.' DEC '.' DEC '.' DEC ('/' DEC)? ;
IPV6 : HEX? ':' HEX? ':' [0-9a-fA-F:.]* ('/' DEC)? ;
INT  : DEC ;

// A name never ends in '-', so "a->b" lexes as a name, an arrow and a name.
NAME        : [a-zA-Z] ([a-zA-Z0-9_.-]* [a-zA-Z0-9_.])? ;
QUBES_TOKEN : '@' ([a-zA-Z0-9_.:@-]* [a-zA-Z0-9_.:@])? ;
RPCARG      : '+' [A-Za-z0-9+._-]* ;

STRING              : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* ;

COMMENT : '#' ~[\r\n]* -> channel(HIDDEN) ;
WS      : [ \t\r\n\f\u000B]+ -> skip ;

// Anything else becomes one token so the parser can report it with its position.
INVALID_CHAR : . ;

fragment DEC : [0-9]+ ;
fragment HEX : [0-9a-fA-F]+ ;
