# Builds an Aurora PostgreSQL cluster with boto3 — a writer and two readers
# in three zones of a DB subnet group over three subnets — waits for it with
# boto3's own waiters, describes it, creates, uses (with psql, through their
# loopback addresses), modifies and deletes two custom endpoints, modifies,
# fails over and deletes the cluster, and prints one JSON report of the same
# shape as aurora_test.go's auroraReport.
# A step that fails records "error: <Code>" and the script goes on where it
# can, so that the test says every finding at once.
import glob, json, shutil, subprocess, sys, time, urllib.request
import boto3
from botocore.exceptions import ClientError, WaiterError

ep = sys.argv[1]
ec2 = boto3.client("ec2", endpoint_url=ep)
rds = boto3.client("rds", endpoint_url=ep)
fast = {"Delay": 1, "MaxAttempts": 180}
rep = {"steps": {}}


def step(name, f):
    try:
        return f()
    except ClientError as e:
        rep["steps"][name] = "error: " + e.response["Error"]["Code"]
    except WaiterError as e:
        rep["steps"][name] = "error: waiter " + str(e)
    except Exception as e:  # e.g. a waiter's JMESPath on an answer AWS never gives
        rep["steps"][name] = "error: %s: %s" % (type(e).__name__, e)
    return None


def cluster():
    return rds.describe_db_clusters(DBClusterIdentifier="orders")["DBClusters"][0]


def members(c):
    return [{"id": m["DBInstanceIdentifier"], "writer": m["IsClusterWriter"], "tier": m.get("PromotionTier", -1)}
            for m in c.get("DBClusterMembers", [])]


def wait_writer(want):
    # No waiter says "this member is the writer": poll the cluster.
    for _ in range(120):
        c = cluster()
        if c["Status"] == "available" and any(m["id"] == want and m["writer"] for m in members(c)):
            return c
        time.sleep(0.5)
    raise RuntimeError("writer never became " + want)


vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % (i + 1), AvailabilityZone="us-east-1" + z)["Subnet"]["SubnetId"]
           for i, z in enumerate("abc")]
sg = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
rds.create_db_subnet_group(DBSubnetGroupName="aurora-subnets", DBSubnetGroupDescription="three zones", SubnetIds=subnets)

c = rds.create_db_cluster(DBClusterIdentifier="orders", Engine="aurora-postgresql", MasterUsername="master",
                          MasterUserPassword="secret-password-1", DatabaseName="app", DBSubnetGroupName="aurora-subnets",
                          VpcSecurityGroupIds=[sg])["DBCluster"]
rep["created"] = {"status": c["Status"], "endpoint": c.get("Endpoint", ""), "readerEndpoint": c.get("ReaderEndpoint", ""),
                  "port": c.get("Port", 0), "engine": c["Engine"]}
for i, z in enumerate("abc"):
    rds.create_db_instance(DBInstanceIdentifier="orders-%d" % (i + 1), DBClusterIdentifier="orders", Engine="aurora-postgresql",
                           DBInstanceClass="db.r6g.large", AvailabilityZone="us-east-1" + z)
step("wait-instances", lambda: rds.get_waiter("db_instance_available").wait(
    Filters=[{"Name": "db-cluster-id", "Values": ["orders"]}], WaiterConfig=fast))
step("wait-cluster", lambda: rds.get_waiter("db_cluster_available").wait(DBClusterIdentifier="orders", WaiterConfig=fast))

c = cluster()
rep["described"] = {"status": c["Status"], "members": members(c), "zones": sorted(c.get("AvailabilityZones", [])),
                    "subnetGroup": c.get("DBSubnetGroup", ""), "endpoint": c.get("Endpoint", ""),
                    "readerEndpoint": c.get("ReaderEndpoint", ""), "securityGroups": [g["VpcSecurityGroupId"] for g in c.get("VpcSecurityGroups", [])]}
rep["securityGroup"] = sg
insts = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": ["orders"]}])["DBInstances"]
rep["instances"] = sorted(({"id": i["DBInstanceIdentifier"], "zone": i.get("AvailabilityZone", ""), "status": i["DBInstanceStatus"],
                            "cluster": i.get("DBClusterIdentifier", ""), "engine": i["Engine"]} for i in insts), key=lambda i: i["id"])


def endpoints():
    es = rds.describe_db_cluster_endpoints(DBClusterIdentifier="orders")["DBClusterEndpoints"]
    rep["endpoints"] = sorted(({"type": e["EndpointType"], "endpoint": e["Endpoint"], "status": e["Status"]} for e in es),
                              key=lambda e: e["type"])


step("describe-endpoints", endpoints)


def psql_port(addr):
    # The port the server behind addr listens on: which member answered.
    host, port = addr.rsplit(":", 1)
    psql = shutil.which("psql") or sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    out = subprocess.run([psql, "-Atc", "SHOW port", "postgresql://master:secret-password-1@%s:%s/app?sslmode=disable" % (host, port)],
                         capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


def reached(eid):
    # The members whose servers answer 8 new connections through custom
    # endpoint eid's loopback address (from /_minicloud/health).
    h = json.load(urllib.request.urlopen(ep + "/_minicloud/health", timeout=30))["rds"]
    member = {psql_port(i["loopback"]): i["id"] for i in h["instances"]}
    addr = [e["loopback"] for c in h["clusters"] for e in c.get("customEndpoints", []) if e["id"] == eid][0]
    return sorted({member.get(psql_port(addr), "?") for _ in range(8)})


def custom_endpoint(e):
    return {"id": e["DBClusterEndpointIdentifier"], "type": e["EndpointType"], "customType": e.get("CustomEndpointType", ""),
            "endpoint": e["Endpoint"], "status": e["Status"], "static": e.get("StaticMembers", []), "excluded": e.get("ExcludedMembers", [])}


def custom_endpoints():
    # No waiter waits for a DB cluster endpoint: poll until none is
    # creating or modifying. Returns the custom ones and every type.
    for _ in range(200):
        es = rds.describe_db_cluster_endpoints(DBClusterIdentifier="orders")["DBClusterEndpoints"]
        custom = sorted((custom_endpoint(e) for e in es if e["EndpointType"] == "CUSTOM"), key=lambda e: e["id"])
        if all(e["status"] == "available" for e in custom):
            break
        time.sleep(0.3)
    return custom, sorted(e["EndpointType"] for e in es)


rep["custom"] = cu = {"created": [], "reached": {}}
for eid, kind, chosen in (("one", "READER", {"StaticMembers": ["orders-2"]}), ("most", "ANY", {"ExcludedMembers": ["orders-3"]})):
    e = step("create-" + eid, lambda: rds.create_db_cluster_endpoint(DBClusterIdentifier="orders", DBClusterEndpointIdentifier=eid,
                                                                     EndpointType=kind, **chosen))
    if e:
        cu["created"].append(custom_endpoint(e))
cu["available"] = step("describe-custom-endpoints", lambda: custom_endpoints()[0])
cu["reached"]["one"] = step("reach-one", lambda: reached("one"))
cu["reached"]["most"] = step("reach-most", lambda: reached("most"))


def modify_custom():
    rds.modify_db_cluster_endpoint(DBClusterEndpointIdentifier="one", StaticMembers=["orders-2", "orders-3"])
    cu["modified"] = custom_endpoints()[0][1]
    cu["reached"]["one-modified"] = reached("one")


step("modify-one", modify_custom)
for eid in ("one", "most"):
    step("delete-" + eid, lambda: rds.delete_db_cluster_endpoint(DBClusterEndpointIdentifier=eid))
cu["left"] = step("describe-custom-endpoints", lambda: custom_endpoints()[1])


def modify():
    c = rds.modify_db_cluster(DBClusterIdentifier="orders", BackupRetentionPeriod=7, ApplyImmediately=True)["DBCluster"]
    rep["modified"] = c.get("BackupRetentionPeriod", 0)
    rds.get_waiter("db_cluster_available").wait(DBClusterIdentifier="orders", WaiterConfig=fast)


step("modify", modify)


def failover():
    rds.failover_db_cluster(DBClusterIdentifier="orders", TargetDBInstanceIdentifier="orders-3")
    rep["afterFailover"] = members(wait_writer("orders-3"))
    # The old writer restarts as a reader (rebooting, as on AWS): a member
    # is deleted once it is available again.
    rds.get_waiter("db_instance_available").wait(Filters=[{"Name": "db-cluster-id", "Values": ["orders"]}], WaiterConfig=fast)


step("failover", failover)

for i in (3, 2, 1):
    step("delete-orders-%d" % i, lambda: rds.delete_db_instance(DBInstanceIdentifier="orders-%d" % i))
step("wait-deleted", lambda: rds.get_waiter("db_instance_deleted").wait(
    Filters=[{"Name": "db-cluster-id", "Values": ["orders"]}], WaiterConfig=fast))
step("delete-cluster", lambda: rds.delete_db_cluster(DBClusterIdentifier="orders", SkipFinalSnapshot=True))
step("wait-cluster-deleted", lambda: rds.get_waiter("db_cluster_deleted").wait(DBClusterIdentifier="orders", WaiterConfig=fast))
try:
    cluster()
    rep["gone"] = "still there"
except ClientError as e:
    rep["gone"] = e.response["Error"]["Code"]
print(json.dumps(rep))
