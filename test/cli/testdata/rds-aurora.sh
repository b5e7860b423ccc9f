#!/usr/bin/env bash
# Builds an Aurora PostgreSQL DB cluster with the AWS CLI and boto3: a DB
# subnet group over three AZs, the cluster, its writer (CLI) and a reader
# (boto3), the CLI's waiter, DescribeDBClusters' members and endpoints, the
# refusals AWS makes, then deletes it all.
#
# Needs: credentials and region in the environment; $AWS (the CLI),
# $ENDPOINT (minicloud) and $PY (a python3 with boto3).
set -euo pipefail
AWS=${AWS:-aws}
aws_() { $AWS --endpoint-url "$ENDPOINT" --output text "$@"; }

# expect_error CODE cmd...: the command must fail with CODE.
expect_error() {
  local code=$1; shift
  local out
  if out=$(aws_ "$@" 2>&1); then
    echo "UNEXPECTED SUCCESS: $* (wanted $code)" >&2
    exit 1
  fi
  if ! grep -q "($code)" <<<"$out"; then
    echo "WRONG ERROR for $*: $out (wanted $code)" >&2
    exit 1
  fi
  echo "refused as expected: $code"
}

vpc=$(aws_ ec2 create-vpc --cidr-block 10.21.0.0/16 --query Vpc.VpcId)
subnets=()
for z in a b c; do
  subnets+=("$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block "10.21.$(( $(printf '%d' "'$z") - 96 )).0/24" --availability-zone "us-east-1$z" --query Subnet.SubnetId)")
done
aws_ rds create-db-subnet-group --db-subnet-group-name aurora-net --db-subnet-group-description aurora --subnet-ids "${subnets[@]}" >/dev/null

echo "cluster: $(aws_ rds create-db-cluster --db-cluster-identifier shop --engine aurora-postgresql --master-username app \
  --master-user-password 'first-pass1' --database-name orders --db-subnet-group-name aurora-net --query DBCluster.[Status,Port,EngineMode])"
expect_error InvalidParameterCombination rds create-db-instance --db-instance-identifier lone --engine aurora-postgresql \
  --db-instance-class db.r6g.large --master-username app --master-user-password 'first-pass1' --allocated-storage 20
expect_error InvalidParameterCombination rds create-db-instance --db-instance-identifier shop-x --db-cluster-identifier shop \
  --engine aurora-postgresql --db-instance-class db.r6g.large --master-user-password 'first-pass1'
aws_ rds create-db-instance --db-instance-identifier shop-1 --db-cluster-identifier shop --engine aurora-postgresql \
  --db-instance-class db.r6g.large >/dev/null
"$PY" - <<PY
import boto3
rds = boto3.client("rds", endpoint_url="$ENDPOINT")
rds.create_db_instance(DBInstanceIdentifier="shop-2", DBClusterIdentifier="shop", Engine="aurora-postgresql",
                       DBInstanceClass="db.r6g.large", PromotionTier=0)
print("boto3 reader:", rds.describe_db_instances(DBInstanceIdentifier="shop-2")["DBInstances"][0]["DBClusterIdentifier"])
PY
aws_ rds wait db-instance-available --db-instance-identifier shop-1
aws_ rds wait db-instance-available --db-instance-identifier shop-2
echo "members: $(aws_ rds describe-db-clusters --db-cluster-identifier shop --query 'DBClusters[0].DBClusterMembers[].[DBInstanceIdentifier,IsClusterWriter,PromotionTier]' | tr '\t\n' ', ')"
echo "endpoints: $(aws_ rds describe-db-clusters --db-cluster-identifier shop --query 'DBClusters[0].[Endpoint,ReaderEndpoint,MultiAZ]')"
expect_error InvalidDBClusterStateFault rds delete-db-cluster --db-cluster-identifier shop --skip-final-snapshot

aws_ rds delete-db-instance --db-instance-identifier shop-1 >/dev/null
echo "writer after deleting shop-1: $(aws_ rds describe-db-clusters --db-cluster-identifier shop --query 'DBClusters[0].DBClusterMembers[?IsClusterWriter].DBInstanceIdentifier')"
aws_ rds delete-db-instance --db-instance-identifier shop-2 >/dev/null
aws_ rds delete-db-cluster --db-cluster-identifier shop --skip-final-snapshot >/dev/null
expect_error DBClusterNotFoundFault rds describe-db-clusters --db-cluster-identifier shop
aws_ rds wait db-instance-deleted --db-instance-identifier shop-1
aws_ rds wait db-instance-deleted --db-instance-identifier shop-2
echo "torn down"
