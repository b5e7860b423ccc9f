#!/usr/bin/env python3
"""Deletes everything provision.py (or provision.sh) built, with boto3, in
the order teardown.sh uses (see there): resources are found by their tag
project=prototype and the hosted zone by its name; what is gone is skipped.

Environment: ENDPOINT (default http://localhost:4566), DOMAIN (default
example.test), credentials and region as for any boto3 client.
"""
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("ENDPOINT", "http://localhost:4566")
DOMAIN = os.environ.get("DOMAIN", "example.test")
TAGGED = [{"Name": "tag:project", "Values": ["prototype"]}]


def say(msg):
    print(time.strftime("[%H:%M:%S]"), msg, flush=True)


def wait_until(what, done, tries=240, every=0.5):
    for _ in range(tries):
        if done():
            return
        time.sleep(every)
    sys.exit(f"{what}: not done after {tries * every:.0f} s")


def main():
    ec2 = boto3.client("ec2", endpoint_url=ENDPOINT)
    rds = boto3.client("rds", endpoint_url=ENDPOINT)
    r53 = boto3.client("route53", endpoint_url=ENDPOINT)

    for z in r53.list_hosted_zones()["HostedZones"]:
        if z["Name"] != DOMAIN + ".":
            continue
        say(f"hosted zone {z['Id']}")
        rrs = r53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]
        changes = [{"Action": "DELETE", "ResourceRecordSet": rr} for rr in rrs if rr["Type"] not in ("SOA", "NS")]
        if changes:
            r53.change_resource_record_sets(HostedZoneId=z["Id"], ChangeBatch={"Changes": changes})
        r53.delete_hosted_zone(Id=z["Id"])

    for a in ec2.describe_addresses(Filters=TAGGED)["Addresses"]:
        say(f"Elastic IP {a['AllocationId']}")
        if "AssociationId" in a:
            ec2.disassociate_address(AssociationId=a["AssociationId"])
        ec2.release_address(AllocationId=a["AllocationId"])

    alive = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
    insts = [i["InstanceId"] for r in ec2.describe_instances(Filters=TAGGED + alive)["Reservations"] for i in r["Instances"]]
    if insts:
        say(f"instances {' '.join(insts)}")
        ec2.terminate_instances(InstanceIds=insts)
    for img in ec2.describe_images(Owners=["self"], Filters=TAGGED)["Images"]:
        say(f"AMI {img['ImageId']}")
        ec2.deregister_image(ImageId=img["ImageId"])

    def db_gone():
        try:
            rds.describe_db_instances(DBInstanceIdentifier="prototype-db")
            return False
        except ClientError as e:
            if e.response["Error"]["Code"] == "DBInstanceNotFound":
                return True
            raise
    if not db_gone():
        say("RDS instance prototype-db")
        rds.delete_db_instance(DBInstanceIdentifier="prototype-db", SkipFinalSnapshot=True)
        wait_until("prototype-db", db_gone)
    try:
        rds.delete_db_subnet_group(DBSubnetGroupName="prototype-db")
        say("DB subnet group prototype-db")
    except ClientError as e:
        if e.response["Error"]["Code"] != "DBSubnetGroupNotFoundFault":
            raise

    for v in ec2.describe_vpcs(Filters=TAGGED)["Vpcs"]:
        vpc = v["VpcId"]
        say(f"VPC {vpc}")
        in_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
        if insts:
            wait_until("instances", lambda: all(i["State"]["Name"] == "terminated" for r in
                                                ec2.describe_instances(InstanceIds=insts)["Reservations"] for i in r["Instances"]))
        wait_until(f"network interfaces of {vpc}", lambda: not ec2.describe_network_interfaces(Filters=in_vpc)["NetworkInterfaces"])
        for name in ("db", "web"):  # db refers to web
            for sg in ec2.describe_security_groups(Filters=in_vpc + [{"Name": "group-name", "Values": [name]}])["SecurityGroups"]:
                ec2.delete_security_group(GroupId=sg["GroupId"])
        for sn in ec2.describe_subnets(Filters=in_vpc)["Subnets"]:
            ec2.delete_subnet(SubnetId=sn["SubnetId"])
        for rt in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]:
            if not any(a.get("Main") for a in rt["Associations"]):
                ec2.delete_route_table(RouteTableId=rt["RouteTableId"])
        for acl in ec2.describe_network_acls(Filters=in_vpc + [{"Name": "default", "Values": ["false"]}])["NetworkAcls"]:
            ec2.delete_network_acl(NetworkAclId=acl["NetworkAclId"])
        for igw in ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]:
            ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc)
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        ec2.delete_vpc(VpcId=vpc)
    say("torn down")


if __name__ == "__main__":
    main()
