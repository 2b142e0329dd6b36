//! Entity types, their identifiers, and the identifier sets that identify an entity on their own
//! (Sentinel's entity mapping rules, as the Azure-Sentinel validator encodes them).

/// An entity type: its allowed identifiers and its "required" alternatives (each alternative is
/// a set of identifiers that must all be present).
pub struct EntityType {
    pub name: &'static str,
    pub identifiers: &'static [&'static str],
    pub required: &'static [&'static [&'static str]],
}

pub static ENTITY_TYPES: &[EntityType] = &[
    EntityType {
        name: "Account",
        identifiers: &[
            "Name", "FullName", "NTDomain", "DnsDomain", "UPNSuffix", "Sid", "AadTenantId",
            "AadUserId", "PUID", "IsDomainJoined", "DisplayName", "ObjectGuid",
        ],
        required: &[&["FullName"], &["Sid"], &["Name"], &["AadUserId"], &["PUID"], &["ObjectGuid"]],
    },
    EntityType {
        name: "AzureResource",
        identifiers: &["ResourceId"],
        required: &[&["ResourceId"]],
    },
    EntityType {
        name: "CloudApplication",
        identifiers: &["AppId", "Name", "InstanceName"],
        required: &[&["AppId"], &["Name"]],
    },
    EntityType {
        name: "DNS",
        identifiers: &["DomainName"],
        required: &[&["DomainName"]],
    },
    EntityType {
        name: "File",
        identifiers: &["Directory", "Name"],
        required: &[&["Name"]],
    },
    EntityType {
        name: "FileHash",
        identifiers: &["Algorithm", "Value"],
        required: &[&["Algorithm", "Value"]],
    },
    EntityType {
        name: "Host",
        identifiers: &[
            "DnsDomain", "NTDomain", "HostName", "FullName", "NetBiosName", "AzureID",
            "OMSAgentID", "OSFamily", "OSVersion", "IsDomainJoined",
        ],
        required: &[&["FullName"], &["HostName"], &["NetBiosName"], &["AzureID"], &["OMSAgentID"]],
    },
    EntityType {
        name: "IoTDevice",
        identifiers: &[
            "DeviceId", "DeviceName", "Manufacturer", "Model", "FirmwareVersion",
            "OperatingSystem", "MacAddress", "Protocols", "SerialNumber", "Source",
            "IoTSecurityAgentId", "DeviceType",
        ],
        required: &[&["DeviceId"]],
    },
    EntityType {
        name: "IP",
        identifiers: &["Address"],
        required: &[&["Address"]],
    },
    EntityType {
        name: "Mailbox",
        identifiers: &[
            "MailboxPrimaryAddress", "DisplayName", "Upn", "ExternalDirectoryObjectId", "RiskLevel",
        ],
        required: &[&["MailboxPrimaryAddress"]],
    },
    EntityType {
        name: "MailCluster",
        identifiers: &[
            "NetworkMessageIds", "CountByDeliveryStatus", "CountByThreatType",
            "CountByProtectionStatus", "Threats", "Query", "QueryTime", "MailCount",
            "IsVolumeAnomaly", "Source", "ClusterSourceIdentifier", "ClusterSourceType",
            "ClusterQueryStartTime", "ClusterQueryEndTime", "ClusterGroup",
        ],
        required: &[&["Query"], &["Source"]],
    },
    EntityType {
        name: "MailMessage",
        identifiers: &[
            "Recipient", "Urls", "Threats", "Sender", "P1Sender", "P1SenderDisplayName",
            "P1SenderDomain", "SenderIP", "P2Sender", "P2SenderDisplayName", "P2SenderDomain",
            "ReceivedDate", "NetworkMessageId", "InternetMessageId", "Subject",
            "BodyFingerprintBin1", "BodyFingerprintBin2", "BodyFingerprintBin3",
            "BodyFingerprintBin4", "BodyFingerprintBin5", "AntispamDirection", "DeliveryAction",
            "DeliveryLocation", "Language", "ThreatDetectionMethods",
        ],
        required: &[&["NetworkMessageId"], &["Recipient"]],
    },
    EntityType {
        name: "Malware",
        identifiers: &["Name", "Category"],
        required: &[&["Name"]],
    },
    EntityType {
        name: "Process",
        identifiers: &["ProcessId", "CommandLine", "ElevationToken", "CreationTimeUtc"],
        required: &[&["CommandLine"], &["ProcessId"]],
    },
    EntityType {
        name: "RegistryKey",
        identifiers: &["Hive", "Key"],
        required: &[&["Key"], &["Hive"]],
    },
    EntityType {
        name: "RegistryValue",
        identifiers: &["Name", "Value", "ValueType"],
        required: &[&["Name"]],
    },
    EntityType {
        name: "SecurityGroup",
        identifiers: &["DistinguishedName", "SID", "ObjectGuid"],
        required: &[&["DistinguishedName"], &["SID"], &["ObjectGuid"]],
    },
    EntityType {
        name: "SubmissionMail",
        identifiers: &[
            "NetworkMessageId", "Timestamp", "Recipient", "Sender", "SenderIp", "Subject",
            "ReportType", "SubmissionId", "SubmissionDate", "Submitter",
        ],
        required: &[&["SubmissionId"], &["NetworkMessageId"], &["Recipient"], &["Submitter"]],
    },
    EntityType {
        name: "URL",
        identifiers: &["Url"],
        required: &[&["Url"]],
    },
];

/// Look an entity type up by its exact name.
pub fn entity_type(name: &str) -> Option<&'static EntityType> {
    ENTITY_TYPES.iter().find(|e| e.name == name)
}
