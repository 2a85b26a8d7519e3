//! Every operation of the spec, called once with valid parameters and bodies: shared by the
//! error tests (`tests/operations.rs`) and the decode sweep (`tests/sweep.rs`).

#![allow(dead_code)] // Each test target uses a different part of this module.

use dromo_client::{types, Error};
use serde_json::{json, Value};

/// The spec's operations, by `operationId`.
pub const OPERATIONS: [&str; 25] = [
    "listImportSchemas",
    "createImportSchema",
    "getImportSchema",
    "updateImportSchema",
    "deleteImportSchema",
    "listUploads",
    "getUploadMetadata",
    "deleteUpload",
    "getUploadUrl",
    "retrieveHeadlessImport",
    "deleteHeadlessImport",
    "getHeadlessImportUrl",
    "listHeadlessImports",
    "createHeadlessImport",
    "listSftpCredentials",
    "createSftpCredentials",
    "retrieveSftpCredentials",
    "updateSftpCredentials",
    "deleteSftpCredentials",
    "testSftpConnection",
    "listSftpConnectors",
    "createSftpConnector",
    "retrieveSftpConnector",
    "updateSftpConnector",
    "deleteSftpConnector",
];

/// The id every call uses.
pub const ID: &str = "66d6300d-1414-4655-83b4-8c80fc527315";

pub fn import_schema() -> types::ImportSchema {
    serde_json::from_value(json!({
        "name": "last - email",
        "fields": [
            {"key": "lastName", "type": "string", "label": "last", "validators": [{"validate": "required"}]},
            {"key": "email", "type": "email", "label": "email", "validators": [{"validate": "required"}]}
        ],
        "settings": {"developmentMode": true, "importIdentifier": "contacts"}
    }))
    .unwrap()
}

pub fn sftp_credential() -> Value {
    json!({"hostname": "sftp.example.com", "port": 22, "user": "sftpuser",
           "auth_type": "PASSWORD", "password": "secure-password-123"})
}

pub fn sftp_connector() -> types::SftpConnectorCreate {
    serde_json::from_value(json!({
        "credentials": "ee5d0e45-b098-47bc-8217-e93790243dfa",
        "schema": "f9e8d7c6-b5a4-3210-9876-543210fedcba",
        "schedule": {"type": "every_n_minutes", "minutes": 15},
        "directory": "/uploads",
        "file_regex": ".*\\.csv$"
    }))
    .unwrap()
}

/// Calls one operation once, with valid parameters and body; `Ok` if it succeeded.
pub async fn call(api: &dromo_client::generated::Client, operation: &str) -> Result<(), Error> {
    let id = uuid::Uuid::parse_str(ID).unwrap();
    match operation {
        "listImportSchemas" => api.list_import_schemas().send().await.map(drop),
        "createImportSchema" => api
            .create_import_schema()
            .body(import_schema())
            .send()
            .await
            .map(drop),
        "getImportSchema" => api.get_import_schema().id(id).send().await.map(drop),
        "updateImportSchema" => api
            .update_import_schema()
            .id(id)
            .body(import_schema())
            .send()
            .await
            .map(drop),
        "deleteImportSchema" => api.delete_import_schema().id(id).send().await.map(drop),
        "listUploads" => api.list_uploads().start(0).end(100).send().await.map(drop),
        "getUploadMetadata" => api.get_upload_metadata().id(id).send().await.map(drop),
        "deleteUpload" => api.delete_upload().id(id).send().await.map(drop),
        "getUploadUrl" => api.get_upload_url().id(id).send().await.map(drop),
        "retrieveHeadlessImport" => api.retrieve_headless_import().id(id).send().await.map(drop),
        "deleteHeadlessImport" => api.delete_headless_import().id(id).send().await.map(drop),
        "getHeadlessImportUrl" => api.get_headless_import_url().id(id).send().await.map(drop),
        "listHeadlessImports" => api
            .list_headless_imports()
            .offset(0u64)
            .limit(10u64)
            .send()
            .await
            .map(drop),
        "createHeadlessImport" => {
            let body: types::CreateHeadlessImportBody = serde_json::from_value(json!({
                "schema_id": "94187d21-9820-420f-b08c-a80cbbf52604",
                "original_filename": "contacts.csv",
                "import_metadata": {"user": {"id": "jeff_id"}}
            }))
            .unwrap();
            api.create_headless_import()
                .body(body)
                .send()
                .await
                .map(drop)
        }
        "listSftpCredentials" => api.list_sftp_credentials().send().await.map(drop),
        "createSftpCredentials" => {
            let body: types::SftpCredentialCreate =
                serde_json::from_value(sftp_credential()).unwrap();
            api.create_sftp_credentials()
                .body(body)
                .send()
                .await
                .map(drop)
        }
        "retrieveSftpCredentials" => api
            .retrieve_sftp_credentials()
            .id(id)
            .send()
            .await
            .map(drop),
        "updateSftpCredentials" => {
            let body: types::SftpCredentialUpdate =
                serde_json::from_value(sftp_credential()).unwrap();
            api.update_sftp_credentials()
                .id(id)
                .body(body)
                .send()
                .await
                .map(drop)
        }
        "deleteSftpCredentials" => api.delete_sftp_credentials().id(id).send().await.map(drop),
        "testSftpConnection" => api.test_sftp_connection().id(id).send().await.map(drop),
        "listSftpConnectors" => api.list_sftp_connectors().send().await.map(drop),
        "createSftpConnector" => api
            .create_sftp_connector()
            .body(sftp_connector())
            .send()
            .await
            .map(drop),
        "retrieveSftpConnector" => api.retrieve_sftp_connector().id(id).send().await.map(drop),
        "updateSftpConnector" => api
            .update_sftp_connector()
            .id(id)
            .body(sftp_connector())
            .send()
            .await
            .map(drop),
        "deleteSftpConnector" => api.delete_sftp_connector().id(id).send().await.map(drop),
        other => panic!("this test does not know how to call {other}"),
    }
}
