import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/error-response.dto';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { PageQueryDto } from '../common/page-query.dto';
import { Roles } from '../common/roles.decorator';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { CreateUserDto, UserDto, UserListDto } from './auth.dto';
import { presentUser } from './user.presenter';
import { UsersService } from './users.service';

@ApiTags('Users')
@ApiBearerAuth()
@Roles('admin')
@Controller('users')
@ApiResponse({ status: 401, type: ErrorResponseDto })
@ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user (admin or viewer)' })
  @ApiResponse({ status: 201, type: UserDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiResponse({ status: 409, description: 'Username taken', type: ErrorResponseDto })
  async create(@Body() body: CreateUserDto): Promise<UserDto> {
    return presentUser(await this.users.create(body.username, body.password, body.role));
  }

  @Get()
  @ApiOperation({ summary: 'List users' })
  @ApiResponse({ status: 200, type: UserListDto })
  async list(@Query() page: PageQueryDto): Promise<UserListDto> {
    const [items, total] = await this.users.list(page.limit, page.offset);
    return { items: items.map(presentUser), total, limit: page.limit, offset: page.offset };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  @ApiResponse({ status: 409, description: 'Own account or last admin', type: ErrorResponseDto })
  async remove(@Param('id', new UuidParamPipe('id')) id: string, @CurrentUser() current: AuthUser): Promise<void> {
    await this.users.remove(id, current.id);
  }
}
