//! Which application's component owns each schema and role.
//!
//! Names are derived (`names`), and different applications or components can derive the
//! same ones: `ev-platform`/`stations`, `ev_platform`/`stations` and `ev`/`platform-stations`
//! all map to schema `ev_platform_stations`. Renaming would lose an existing deployment's
//! data, so the names stay and the second claimant is refused before anything of the first
//! changes. A row from before owners were recorded names only its component; the application
//! that derives its schema for that component adopts it.

use anyhow::bail;
use sqlx::postgres::PgConnection;

use super::names::Names;

/// A row of `joule.component_databases`.
#[derive(sqlx::FromRow)]
struct Owner {
    application: Option<String>,
    component: String,
    schema_name: String,
    role_name: String,
}

/// Records `application`'s component as the owner of its schema and role, or fails naming
/// both claimants when another owns either. Runs under the provisioning lock.
pub(super) async fn claim(connection: &mut PgConnection, application: &str, names: &Names) -> anyhow::Result<()> {
    let owners: Vec<Owner> = sqlx::query_as(
        "SELECT application, component, schema_name, role_name FROM component_databases
         WHERE schema_name = $1 OR role_name = $2 OR (application = $3 AND component = $4)",
    )
    .bind(&names.schema)
    .bind(&names.role)
    .bind(application)
    .bind(&names.component)
    .fetch_all(&mut *connection)
    .await?;
    for owner in &owners {
        let same_owner = owner.component == names.component
            && owner.application.as_deref().is_none_or(|owning| owning == application);
        if !same_owner || owner.schema_name != names.schema || owner.role_name != names.role {
            bail!(clash(owner, application, names));
        }
    }
    sqlx::query(
        "INSERT INTO component_databases (application, component, schema_name, role_name) VALUES ($1, $2, $3, $4)
         ON CONFLICT (schema_name) DO UPDATE SET application = excluded.application, provisioned_at = now()",
    )
    .bind(application)
    .bind(&names.component)
    .bind(&names.schema)
    .bind(&names.role)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

fn clash(owner: &Owner, application: &str, names: &Names) -> String {
    let owning = match &owner.application {
        Some(owning) => format!("component {:?} of application {owning:?}", owner.component),
        None => format!("component {:?} (of an application that has not started since owners were recorded)", owner.component),
    };
    format!(
        "component {:?} of application {application:?} needs schema {:?} and role {:?}, but schema {:?} and role \
         {:?} belong to {owning} on this database; their names map to the same schema, so they would share its data. \
         Rename the application or the component",
        names.component, names.schema, names.role, owner.schema_name, owner.role_name
    )
}
