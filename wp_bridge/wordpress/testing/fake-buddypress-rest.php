<?php
/**
 * Plugin Name: Fake BuddyPress REST (TESTS ONLY)
 * Description: TEST-ONLY stand-in for BuddyPress 14 + the BP REST API v1 group-membership routes. NEVER install it on a real site: it is not BuddyPress, it keeps its own tables and it answers only on sites whose environment type is "local".
 * Version: 1.0.0
 * Requires at least: 6.1
 * Requires PHP: 8.2
 *
 * DO NOT INSTALL ON A REAL SITE. It exists so that the Therapy Pay Sidecar tests can run against a real
 * WordPress without BuddyPress (which has no Debian package). It stays silent when real BuddyPress is
 * active or when wp_get_environment_type() is not "local".
 *
 * It reproduces what BuddyPress 14.x with the v1 REST API answers for:
 *   GET  /buddypress/v1/groups/<id>                 array with one group (v1 wraps single items)
 *   GET  /buddypress/v1/groups/<id>/members         array; X-WP-Total / X-WP-TotalPages;
 *                                                   exclude_admins (default true) and exclude_banned
 *                                                   (default true), page, per_page (<= 100), roles[],
 *                                                   exclude[], status (last_joined|first_joined|alphabetical)
 *   POST /buddypress/v1/groups/<id>/members {user_id, role}
 *       - 200 (not 201) with an array holding one member;
 *       - context absent or "view": join, idempotent (an existing member is simply returned);
 *       - context "edit" (the default of this method): upsert with date_modified = now; re-adding a
 *         member within the same second changes no row and answers
 *         500 bp_rest_group_member_failed_to_join "Could not add member to the group.";
 *         re-adding a group admin as "member" demotes them (as BuddyPress does);
 *       - 401 bp_rest_authorization_required when not logged in, 404 bp_rest_group_member_invalid_id
 *         for an unknown user, 404 bp_rest_group_invalid_id for an unknown group; site admins
 *         (manage_options, i.e. bp_moderate) may add anyone, other users only themselves to a public group
 *         with context=view.
 *   DELETE /buddypress/v1/groups/<id>/members/<user_id>
 *       - 200 {"removed": true, "previous": {the member as it was, with "group"}};
 *       - a user who is not (or no longer) in the group: 500 bp_rest_group_member_failed_to_remove
 *         "Could not remove member from this group." (BuddyPress's DELETE of the missing row fails the
 *         same way), so a second DELETE is an error, not a no-op;
 *       - 401 bp_rest_authorization_required when not logged in, 404 bp_rest_group_member_invalid_id /
 *         bp_rest_group_invalid_id for an unknown user / group; site admins may remove anyone, a user
 *         himself, a group admin the group's members; anyone else 403 bp_rest_authorization_required.
 *
 * Groups are created by tests and setup scripts with \TherapySidecar\FakeBuddyPress\create_group().
 */

namespace TherapySidecar\FakeBuddyPress;

defined( 'ABSPATH' ) || exit;

const REST_NAMESPACE = 'buddypress/v1';
const SCHEMA_OPTION  = 'therapy_fake_bp_schema_version';
const SCHEMA_VERSION = '1';

function enabled(): bool {
	return 'local' === wp_get_environment_type() && ! function_exists( 'buddypress' );
}

function groups_table(): string {
	global $wpdb;
	return $wpdb->base_prefix . 'fake_bp_groups';
}

function members_table(): string {
	global $wpdb;
	return $wpdb->base_prefix . 'fake_bp_groups_members';
}

function ensure_tables(): void {
	static $done = false;
	if ( $done || SCHEMA_VERSION === get_option( SCHEMA_OPTION ) ) {
		$done = true;
		return;
	}
	global $wpdb;
	$charset = $wpdb->get_charset_collate();
	$wpdb->query(
		'CREATE TABLE IF NOT EXISTS ' . groups_table() . " (
			id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
			creator_id bigint(20) unsigned NOT NULL DEFAULT 0,
			name varchar(100) NOT NULL,
			slug varchar(200) NOT NULL,
			description longtext NOT NULL,
			status varchar(10) NOT NULL DEFAULT 'public',
			date_created datetime NOT NULL,
			PRIMARY KEY (id),
			UNIQUE KEY slug (slug)
		) {$charset}"
	);
	$wpdb->query(
		'CREATE TABLE IF NOT EXISTS ' . members_table() . " (
			id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
			group_id bigint(20) unsigned NOT NULL,
			user_id bigint(20) unsigned NOT NULL,
			is_admin tinyint(1) NOT NULL DEFAULT 0,
			is_mod tinyint(1) NOT NULL DEFAULT 0,
			is_banned tinyint(1) NOT NULL DEFAULT 0,
			is_confirmed tinyint(1) NOT NULL DEFAULT 0,
			date_modified datetime NOT NULL,
			PRIMARY KEY (id),
			UNIQUE KEY group_user (group_id, user_id),
			KEY user_id (user_id)
		) {$charset}"
	);
	update_option( SCHEMA_OPTION, SCHEMA_VERSION, true );
	$done = true;
}

/**
 * @return object|null Group row.
 */
function get_group( int $group_id ) {
	global $wpdb;
	if ( $group_id <= 0 ) {
		return null;
	}
	ensure_tables();
	return $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . groups_table() . ' WHERE id = %d', $group_id ) ) ?: null; // Only table names are concatenated; values go through prepare().
}

/**
 * @return object|null Membership row (any state).
 */
function get_membership( int $group_id, int $user_id ) {
	global $wpdb;
	ensure_tables();
	return $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . members_table() . ' WHERE group_id = %d AND user_id = %d', $group_id, $user_id ) ) ?: null; // Only table names are concatenated; values go through prepare().
}

/** Like groups_is_user_member(): confirmed and not banned. */
function is_member( int $group_id, int $user_id ): bool {
	$row = get_membership( $group_id, $user_id );
	return $row && (int) $row->is_confirmed && ! (int) $row->is_banned;
}

function now_gmt(): string {
	return gmdate( 'Y-m-d H:i:s' );
}

/** bp_moderate is granted to roles with manage_options on non-network installs. */
function can_moderate(): bool {
	return current_user_can( 'manage_options' );
}

function auth_error( string $message ): \WP_Error {
	return new \WP_Error( 'bp_rest_authorization_required', $message, array( 'status' => rest_authorization_required_code() ) );
}

function invalid_group(): \WP_Error {
	return new \WP_Error( 'bp_rest_group_invalid_id', 'Invalid group ID.', array( 'status' => 404 ) );
}

function register_routes(): void {
	if ( ! enabled() ) {
		return;
	}
	register_rest_route(
		REST_NAMESPACE,
		'/groups/(?P<id>[\d]+)',
		array(
			'methods'             => \WP_REST_Server::READABLE,
			'callback'            => __NAMESPACE__ . '\\rest_get_group',
			'permission_callback' => __NAMESPACE__ . '\\read_group_permission',
			'args'                => array(
				'id'      => array( 'type' => 'integer' ),
				'context' => array(
					'type'    => 'string',
					'enum'    => array( 'view', 'embed', 'edit' ),
					'default' => 'view',
				),
			),
		)
	);
	register_rest_route(
		REST_NAMESPACE,
		'/groups/(?P<group_id>[\d]+)/members',
		array(
			'args' => array( 'group_id' => array( 'type' => 'integer' ) ),
			array(
				'methods'             => \WP_REST_Server::READABLE,
				'callback'            => __NAMESPACE__ . '\\rest_list_members',
				'permission_callback' => __NAMESPACE__ . '\\read_group_permission',
				'args'                => array(
					'context'        => array(
						'type'    => 'string',
						'enum'    => array( 'view', 'embed', 'edit' ),
						'default' => 'view',
					),
					'page'           => array(
						'type'    => 'integer',
						'default' => 1,
						'minimum' => 1,
					),
					'per_page'       => array(
						'type'    => 'integer',
						'default' => 10,
						'minimum' => 1,
						'maximum' => 100,
					),
					'search'         => array( 'type' => 'string' ),
					'status'         => array(
						'type'    => 'string',
						'enum'    => array( 'last_joined', 'first_joined', 'alphabetical' ),
						'default' => 'last_joined',
					),
					'roles'          => array(
						'type'    => 'array',
						'items'   => array(
							'type' => 'string',
							'enum' => array( 'admin', 'mod', 'member', 'banned' ),
						),
						'default' => array(),
					),
					'exclude'        => array(
						'type'    => 'array',
						'items'   => array( 'type' => 'integer' ),
						'default' => array(),
					),
					'exclude_admins' => array(
						'type'    => 'boolean',
						'default' => true,
					),
					'exclude_banned' => array(
						'type'    => 'boolean',
						'default' => true,
					),
				),
			),
			array(
				'methods'             => \WP_REST_Server::CREATABLE,
				'callback'            => __NAMESPACE__ . '\\rest_add_member',
				'permission_callback' => __NAMESPACE__ . '\\add_member_permission',
				'args'                => array(
					'context' => array(
						'type'    => 'string',
						'enum'    => array( 'view', 'embed', 'edit' ),
						'default' => 'edit',
					),
					'role'    => array(
						'type'    => 'string',
						'enum'    => array( 'admin', 'mod', 'member' ),
						'default' => 'member',
					),
					'user_id' => array(
						'type'    => 'integer',
						'default' => get_current_user_id(),
					),
				),
			),
		)
	);
	register_rest_route(
		REST_NAMESPACE,
		'/groups/(?P<group_id>[\d]+)/members/(?P<user_id>[\d]+)',
		array(
			'args' => array(
				'group_id' => array( 'type' => 'integer' ),
				'user_id'  => array( 'type' => 'integer' ),
			),
			array(
				'methods'             => \WP_REST_Server::DELETABLE,
				'callback'            => __NAMESPACE__ . '\\rest_remove_member',
				'permission_callback' => __NAMESPACE__ . '\\remove_member_permission',
			),
		)
	);
}

/**
 * Same rule as BP's group read permission: 404 for an unknown group; public groups for everybody;
 * otherwise site admins and members only.
 *
 * @return true|\WP_Error
 */
function read_group_permission( \WP_REST_Request $request ) {
	$group_id = (int) ( $request['group_id'] ?? $request['id'] );
	$group    = get_group( $group_id );
	if ( ! $group ) {
		return invalid_group();
	}
	if ( 'public' === $group->status || can_moderate() || ( is_user_logged_in() && is_member( (int) $group->id, get_current_user_id() ) ) ) {
		return true;
	}
	return auth_error( 'Sorry, you cannot view the group.' );
}

/**
 * @return true|false|\WP_Error
 */
function add_member_permission( \WP_REST_Request $request ) {
	if ( ! is_user_logged_in() ) {
		return auth_error( 'Sorry, you need to be logged in to join a group.' );
	}
	$user = get_userdata( (int) $request['user_id'] );
	if ( ! $user ) {
		return new \WP_Error( 'bp_rest_group_member_invalid_id', 'Invalid group member ID.', array( 'status' => 404 ) );
	}
	$group = get_group( (int) $request['group_id'] );
	if ( ! $group ) {
		return invalid_group();
	}
	if ( can_moderate() ) {
		return true;
	}
	if ( get_current_user_id() === (int) $user->ID && 'view' === $request['context'] ) {
		$row = get_membership( (int) $group->id, (int) $user->ID );
		if ( 'public' !== $group->status || is_member( (int) $group->id, (int) $user->ID ) || ( $row && (int) $row->is_banned ) ) {
			return new \WP_Error( 'bp_rest_group_member_failed_to_join', 'Could not join the group.', array( 'status' => 500 ) );
		}
		return true;
	}
	return false;
}

/**
 * As BuddyPress's removal permission: site admins, the member himself and the group's admins.
 *
 * @return true|\WP_Error
 */
function remove_member_permission( \WP_REST_Request $request ) {
	if ( ! is_user_logged_in() ) {
		return auth_error( 'Sorry, you need to be logged in to view a group membership.' );
	}
	$user = get_userdata( (int) $request['user_id'] );
	if ( ! $user ) {
		return new \WP_Error( 'bp_rest_group_member_invalid_id', 'Invalid group member ID.', array( 'status' => 404 ) );
	}
	$group = get_group( (int) $request['group_id'] );
	if ( ! $group ) {
		return invalid_group();
	}
	$me = get_membership( (int) $group->id, get_current_user_id() );
	if ( can_moderate() || get_current_user_id() === (int) $user->ID || ( $me && (int) $me->is_admin ) ) {
		return true;
	}
	return new \WP_Error( 'bp_rest_authorization_required', 'Sorry, you are not allowed to remove this member.', array( 'status' => rest_authorization_required_code() ) );
}

/**
 * DELETE /groups/<id>/members/<user_id>: BP_Groups_Member::remove() deletes the row; no row deleted
 * (not a member) is BuddyPress's 500.
 *
 * @return \WP_REST_Response|\WP_Error
 */
function rest_remove_member( \WP_REST_Request $request ) {
	global $wpdb;
	$group_id = (int) $request['group_id'];
	$user_id  = (int) $request['user_id'];
	$row      = get_membership( $group_id, $user_id );
	$removed  = $row ? $wpdb->delete( members_table(), array( 'id' => (int) $row->id ), array( '%d' ) ) : 0;
	if ( ! $removed ) {
		return new \WP_Error( 'bp_rest_group_member_failed_to_remove', 'Could not remove member from this group.', array( 'status' => 500 ) );
	}
	$previous = array( 'group' => $group_id ) + member_data( $row, 'edit' );
	unset( $previous['_links'] ); // BuddyPress's "previous" carries no links.
	return rest_ensure_response(
		array(
			'removed'  => true,
			'previous' => $previous,
		)
	);
}

/**
 * POST /groups/<id>/members
 *
 * @return \WP_REST_Response|\WP_Error
 */
function rest_add_member( \WP_REST_Request $request ) {
	global $wpdb;
	$group_id = (int) $request['group_id'];
	$user_id  = (int) $request['user_id'];
	$context  = (string) $request['context'];
	$row      = get_membership( $group_id, $user_id );

	if ( '' === $context || 'view' === $context ) {
		// groups_join_group(): true for an existing member, otherwise a confirmed membership.
		if ( ! is_member( $group_id, $user_id ) ) {
			if ( $row && (int) $row->is_banned ) {
				return new \WP_Error( 'bp_rest_group_member_failed_to_join', 'Could not join the group.', array( 'status' => 500 ) );
			}
			$ok = $row
				? $wpdb->update( members_table(), array( 'is_confirmed' => 1, 'date_modified' => now_gmt() ), array( 'id' => $row->id ) )
				: $wpdb->insert(
					members_table(),
					array(
						'group_id'      => $group_id,
						'user_id'       => $user_id,
						'is_confirmed'  => 1,
						'date_modified' => now_gmt(),
					)
				);
			if ( ! $ok ) {
				return new \WP_Error( 'bp_rest_group_member_failed_to_join', 'Could not join the group.', array( 'status' => 500 ) );
			}
		}
	} else {
		// BP_Groups_Member::save(): UPDATE of an existing row (0 changed rows = failure) or INSERT.
		$values = array(
			'is_admin'      => 0,
			'is_confirmed'  => 1,
			'date_modified' => now_gmt(),
		);
		$saved  = $row
			? $wpdb->update( members_table(), $values, array( 'id' => $row->id ) )
			: $wpdb->insert( members_table(), $values + array( 'group_id' => $group_id, 'user_id' => $user_id ) );
		if ( ! $saved ) {
			return new \WP_Error( 'bp_rest_group_member_failed_to_join', 'Could not add member to the group.', array( 'status' => 500 ) );
		}
		$role = (string) $request['role'];
		if ( 'member' !== $role ) {
			$wpdb->update(
				members_table(),
				array(
					'is_admin' => 'admin' === $role ? 1 : 0,
					'is_mod'   => 'mod' === $role ? 1 : 0,
				),
				array(
					'group_id' => $group_id,
					'user_id'  => $user_id,
				)
			);
		}
	}

	$member = get_membership( $group_id, $user_id );
	return rest_ensure_response( array( member_data( $member, 'edit' ) ) ); // 200, an array of one.
}

/**
 * GET /groups/<id>/members
 *
 * @return \WP_REST_Response
 */
function rest_list_members( \WP_REST_Request $request ) {
	global $wpdb;
	$group_id = (int) $request['group_id'];
	$where    = array( $wpdb->prepare( 'm.group_id = %d', $group_id ), 'm.is_confirmed = 1' );
	if ( $request['exclude_admins'] ) {
		$where[] = 'm.is_admin = 0 AND m.is_mod = 0';
	}
	if ( $request['exclude_banned'] ) {
		$where[] = 'm.is_banned = 0';
	}
	$roles = array_filter( (array) $request['roles'] );
	if ( $roles ) {
		$role_sql = array();
		foreach ( $roles as $role ) {
			$role_sql[] = match ( $role ) {
				'admin'  => 'm.is_admin = 1',
				'mod'    => 'm.is_mod = 1',
				'banned' => 'm.is_banned = 1',
				default  => '(m.is_admin = 0 AND m.is_mod = 0 AND m.is_banned = 0)',
			};
		}
		$where[] = '(' . implode( ' OR ', $role_sql ) . ')';
	}
	$exclude = array_filter( array_map( 'intval', (array) $request['exclude'] ) );
	if ( $exclude ) {
		$where[] = 'm.user_id NOT IN (' . implode( ',', $exclude ) . ')';
	}
	$search = trim( (string) $request['search'] );
	if ( '' !== $search ) {
		$like    = '%' . $wpdb->esc_like( $search ) . '%';
		$where[] = $wpdb->prepare( '(u.user_login LIKE %s OR u.display_name LIKE %s OR u.user_nicename LIKE %s)', $like, $like, $like );
	}
	$order = match ( (string) $request['status'] ) {
		'first_joined' => 'm.date_modified ASC, m.id ASC',
		'alphabetical' => 'u.display_name ASC, m.id ASC',
		default        => 'm.date_modified DESC, m.id DESC',
	};
	$from     = ' FROM ' . members_table() . " m INNER JOIN {$wpdb->users} u ON u.ID = m.user_id WHERE " . implode( ' AND ', $where );
	$per_page = (int) $request['per_page'];
	$page     = (int) $request['page'];
	$total    = (int) $wpdb->get_var( 'SELECT COUNT(*)' . $from ); // $from: table names, fixed clauses, integers and the prepared search.
	$rows     = $wpdb->get_results( 'SELECT m.*' . $from . " ORDER BY {$order}" . $wpdb->prepare( ' LIMIT %d OFFSET %d', $per_page, ( $page - 1 ) * $per_page ) ); // As above; $order is one of three fixed clauses.

	$context  = (string) $request['context'];
	$response = rest_ensure_response(
		array_map(
			static function ( $row ) use ( $context ) {
				return member_data( $row, $context );
			},
			$rows ?: array()
		)
	);
	$response->header( 'X-WP-Total', (string) $total );
	$response->header( 'X-WP-TotalPages', (string) (int) ceil( $total / $per_page ) );
	return $response;
}

/**
 * GET /groups/<id>
 *
 * @return \WP_REST_Response
 */
function rest_get_group( \WP_REST_Request $request ) {
	global $wpdb;
	$group = get_group( (int) $request['id'] );
	$count = (int) $wpdb->get_var( $wpdb->prepare( 'SELECT COUNT(*) FROM ' . members_table() . ' WHERE group_id = %d AND is_confirmed = 1 AND is_banned = 0', $group->id ) ); // Only table names are concatenated; values go through prepare().
	$data  = array(
		'id'                 => (int) $group->id,
		'creator_id'         => (int) $group->creator_id,
		'parent_id'          => 0,
		'date_created'       => mysql_to_rfc3339( get_date_from_gmt( $group->date_created ) ),
		'date_created_gmt'   => mysql_to_rfc3339( $group->date_created ),
		'description'        => array(
			'raw'      => 'edit' === $request['context'] ? $group->description : '',
			'rendered' => wpautop( esc_html( $group->description ) ),
		),
		'enable_forum'       => false,
		'link'               => home_url( '/groups/' . $group->slug . '/' ),
		'name'               => $group->name,
		'slug'               => $group->slug,
		'status'             => $group->status,
		'types'              => array(),
		'total_member_count' => 'edit' === $request['context'] ? $count : 0,
		'avatar_urls'        => array(),
	);
	return rest_ensure_response( array( $data ) );
}

/**
 * A group member as BP's v1 REST API shows it (member fields merged with the membership flags).
 *
 * @param object $row     Membership row.
 * @param string $context view | edit | embed.
 * @return array<string, mixed>
 */
function member_data( $row, string $context ): array {
	$user = get_userdata( (int) $row->user_id );
	$data = array(
		'id'                => (int) $row->user_id,
		'name'              => $user ? $user->display_name : '',
		'user_login'        => $user ? $user->user_login : '',
		'mention_name'      => $user ? $user->user_nicename : '',
		'link'              => $user ? home_url( '/members/' . $user->user_nicename . '/' ) : '',
		'member_types'      => array(),
		'avatar_urls'       => array(
			'full'  => '',
			'thumb' => '',
		),
		'is_mod'            => (bool) (int) $row->is_mod,
		'is_admin'          => (bool) (int) $row->is_admin,
		'is_banned'         => (bool) (int) $row->is_banned,
		'is_confirmed'      => (bool) (int) $row->is_confirmed,
		'date_modified'     => mysql_to_rfc3339( get_date_from_gmt( $row->date_modified ) ),
		'date_modified_gmt' => mysql_to_rfc3339( $row->date_modified ),
		'_links'            => array(
			'self'       => array( array( 'href' => rest_url( REST_NAMESPACE . '/members/' . (int) $row->user_id ) ) ),
			'collection' => array( array( 'href' => rest_url( REST_NAMESPACE . '/members' ) ) ),
			'group'      => array( array( 'href' => rest_url( REST_NAMESPACE . '/groups/' . (int) $row->group_id ) ) ),
		),
	);
	if ( 'edit' === $context && $user ) {
		$data['registered_date']    = mysql_to_rfc3339( $user->user_registered );
		$data['roles']              = array_values( $user->roles );
		$data['capabilities']       = (object) $user->allcaps;
		$data['extra_capabilities'] = (object) $user->caps;
	}
	return $data;
}

add_action( 'rest_api_init', __NAMESPACE__ . '\\register_routes' );

/**
 * Test helper: creates a fake BuddyPress group (the creator becomes its admin, as in BuddyPress) and
 * returns its id; returns the existing id when a group with the same slug exists.
 *
 * @param string               $name Group name.
 * @param array<string, mixed> $args status (public|private|hidden), creator_id, slug, description.
 */
function create_group( string $name, array $args = array() ): int {
	global $wpdb;
	ensure_tables();
	$slug   = sanitize_title( (string) ( $args['slug'] ?? $name ) );
	$status = in_array( $args['status'] ?? 'public', array( 'public', 'private', 'hidden' ), true ) ? (string) ( $args['status'] ?? 'public' ) : 'public';
	$found  = $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . groups_table() . ' WHERE slug = %s', $slug ) ); // Only table names are concatenated; values go through prepare().
	if ( $found ) {
		return (int) $found;
	}
	$creator = (int) ( $args['creator_id'] ?? get_current_user_id() );
	$wpdb->insert(
		groups_table(),
		array(
			'creator_id'   => $creator,
			'name'         => $name,
			'slug'         => $slug,
			'description'  => (string) ( $args['description'] ?? '' ),
			'status'       => $status,
			'date_created' => now_gmt(),
		)
	);
	$group_id = (int) $wpdb->insert_id;
	if ( $creator > 0 ) {
		$wpdb->insert(
			members_table(),
			array(
				'group_id'      => $group_id,
				'user_id'       => $creator,
				'is_admin'      => 1,
				'is_confirmed'  => 1,
				'date_modified' => now_gmt(),
			)
		);
	}
	return $group_id;
}

/**
 * Test helper: removes every membership of a fake group except its creator's admin row.
 */
function reset_group( int $group_id ): void {
	global $wpdb;
	ensure_tables();
	$group = get_group( $group_id );
	if ( ! $group ) {
		return;
	}
	$wpdb->query( $wpdb->prepare( 'DELETE FROM ' . members_table() . ' WHERE group_id = %d AND user_id <> %d', $group_id, (int) $group->creator_id ) ); // Only table names are concatenated; values go through prepare().
}
