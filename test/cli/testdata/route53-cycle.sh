#!/usr/bin/env bash
# A Route 53 cycle with the AWS CLI, as an IaC tool runs it: a reusable
# delegation set, a zone created on it, records, TestDNSAnswer, a query
# logging config (its log group first), limits, DNSSEC's answer without
# KMS, and everything deleted again in order.
#
# Needs: credentials and region in the environment. The caller passes the
# CLI as $AWS (default: aws) and the endpoint as $ENDPOINT.
set -euo pipefail
AWS=${AWS:-aws}
aws_() { $AWS --endpoint-url "$ENDPOINT" --output text "$@"; }

ref="cycle-$$-$RANDOM"
set_id=$(aws_ route53 create-reusable-delegation-set --caller-reference "$ref-ds" --query DelegationSet.Id)
echo "delegation set: $set_id"
zone=$(aws_ route53 create-hosted-zone --name cycle.test --caller-reference "$ref" \
  --delegation-set-id "$set_id" --query HostedZone.Id)
zone_id=${zone#/hostedzone/}
ns_set=$(aws_ route53 get-reusable-delegation-set --id "$set_id" --query 'DelegationSet.NameServers[0]')
ns_zone=$(aws_ route53 get-hosted-zone --id "$zone" --query 'DelegationSet.NameServers[0]')
[ "$ns_set" = "$ns_zone" ] || { echo "zone's name servers $ns_zone are not the set's $ns_set" >&2; exit 1; }
echo "zone on the set: $zone_id"
echo "zones of the set: $(aws_ route53 get-reusable-delegation-set-limit --delegation-set-id "$set_id" \
  --type MAX_ZONES_BY_REUSABLE_DELEGATION_SET --query Count)"

change=$(aws_ route53 change-resource-record-sets --hosted-zone-id "$zone" --change-batch \
  '{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"www.cycle.test","Type":"A","TTL":60,"ResourceRecords":[{"Value":"198.18.7.7"}]}}]}' \
  --query ChangeInfo.Id)
aws_ route53 wait resource-record-sets-changed --id "$change"
echo "answer: $(aws_ route53 test-dns-answer --hosted-zone-id "$zone" --record-name www.cycle.test --record-type A \
  --query '[ResponseCode,RecordData[0]]')"

aws_ logs create-log-group --log-group-name /aws/route53/cycle.test
acct=$(aws_ sts get-caller-identity --query Account)
qlc=$(aws_ route53 create-query-logging-config --hosted-zone-id "$zone" \
  --cloud-watch-logs-log-group-arn "arn:aws:logs:us-east-1:$acct:log-group:/aws/route53/cycle.test:*" \
  --query QueryLoggingConfig.Id)
echo "query logging configs: $(aws_ route53 list-query-logging-configs --hosted-zone-id "$zone" --query 'length(QueryLoggingConfigs)')"

echo "rrsets: $(aws_ route53 get-hosted-zone-limit --hosted-zone-id "$zone" --type MAX_RRSETS_BY_ZONE --query '[Count,Limit.Value]')"
echo "dnssec: $(aws_ route53 get-dnssec --hosted-zone-id "$zone" --query Status.ServeSignature)"
if err=$(aws_ route53 enable-hosted-zone-dnssec --hosted-zone-id "$zone" 2>&1); then
  echo "enable-hosted-zone-dnssec succeeded without a key-signing key" >&2; exit 1
fi
grep -q KeySigningKeyWithActiveStatusNotFound <<<"$err" || { echo "enable-hosted-zone-dnssec: $err" >&2; exit 1; }
echo "dnssec enable refused: KeySigningKeyWithActiveStatusNotFound"

aws_ route53 delete-query-logging-config --id "$qlc"
aws_ route53 change-resource-record-sets --hosted-zone-id "$zone" --change-batch \
  '{"Changes":[{"Action":"DELETE","ResourceRecordSet":{"Name":"www.cycle.test","Type":"A","TTL":60,"ResourceRecords":[{"Value":"198.18.7.7"}]}}]}' >/dev/null
if err=$(aws_ route53 delete-reusable-delegation-set --id "$set_id" 2>&1); then
  echo "a delegation set in use was deleted" >&2; exit 1
fi
grep -q DelegationSetInUse <<<"$err" || { echo "delete-reusable-delegation-set: $err" >&2; exit 1; }
aws_ route53 delete-hosted-zone --id "$zone" >/dev/null
aws_ route53 delete-reusable-delegation-set --id "$set_id"
aws_ logs delete-log-group --log-group-name /aws/route53/cycle.test
echo "route53 cycle complete"
